// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault audit: lists and verifies a token's event log
// (docs/formats/event-log.md, docs/cli.md). It reads vault.db directly and
// needs no PIN: the log is not secret, and verification needs only the
// public audit keys.
#include <ctime>

#include "cli/command_context.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "src/audit/verify.h"
#include "src/base/status_macros.h"
#include "src/storage/store.h"

namespace certvault::cli {
namespace {

std::string IsoTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm = {};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// PickToken: --token (a label, or the number of a token whose log outlived
// it), or the vault's only token.
Result<storage::TokenId> PickToken(storage::Store& store, const std::optional<std::string>& want) {
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, store.ListTokens());
  if (!want) {
    if (tokens.size() == 1) return tokens.front().token_id;
    return InvalidArgumentError(tokens.empty() ? "the vault has no token" : "several tokens: choose one with --token");
  }
  for (const storage::TokenRow& t : tokens) {
    if (t.label == *want) return t.token_id;
  }
  if (!want->empty() && want->find_first_not_of("0123456789") == std::string::npos && want->size() < 19) {
    return static_cast<storage::TokenId>(std::stoull(*want));
  }
  return NotFoundError("no token labelled '" + *want + "'");
}

// ParseCheckpoint: "SEQ:HEADHEX" into the options.
Status ParseCheckpoint(const std::string& text, audit::VerifyOptions* options) {
  const size_t colon = text.find(':');
  Bytes head;
  const bool hex_ok = colon != std::string::npos && HexDecode(std::string_view(text).substr(colon + 1), &head);
  const std::string seq = text.substr(0, colon);
  if (!hex_ok || head.size() != 32 || seq.empty() || seq.size() > 18 ||
      seq.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("--checkpoint must be SEQ:HEAD (a record number and its 64 hex digit hash)");
  }
  options->expect_seq = std::stoull(seq);
  options->expect_head = std::move(head);
  return OkStatus();
}

std::string EventJson(const storage::EventRow& e) {
  return JsonObject()
      .AddInt("seq", e.seq)
      .Add("time", IsoTime(e.time_ms))
      .Add("role", e.role)
      .Add("mode", e.mode)
      .AddRaw("uid", std::to_string(e.peer_uid))
      .AddRaw("pid", std::to_string(e.peer_pid))
      .Add("exe", e.peer_exe)
      .Add("action", e.action)
      .AddInt("target_id", e.target_id)
      .Add("target_label", e.target_label)
      .Add("result", e.result)
      .Add("detail", e.detail)
      .Add("hash", HexEncode(e.hash))
      .Build();
}

void PrintEvent(std::ostream& out, const storage::EventRow& e) {
  out << e.seq << "  " << IsoTime(e.time_ms) << "  " << e.action << "  " << e.result << "  " << e.role << " (" << e.mode
      << " uid " << e.peer_uid << " pid " << e.peer_pid << " " << e.peer_exe << ")";
  if (e.target_id != 0 || !e.target_label.empty()) out << "  object " << e.target_id << " \"" << e.target_label << "\"";
  if (!e.detail.empty()) out << "  " << e.detail;
  out << "\n";
}

std::string ReportJson(storage::TokenId token, const audit::VerifyReport& r) {
  std::vector<std::string> keys;
  for (const std::string& k : r.key_fingerprints) keys.push_back(JsonString(k));
  JsonObject o;
  o.AddInt("token", token).AddBool("ok", r.ok).AddInt("records", r.records).AddInt("checkpoints", r.checkpoints);
  o.AddInt("last_signed_seq", r.last_signed_seq).Add("last_signed_head", HexEncode(r.last_signed_head));
  o.AddInt("unsigned_records", r.records - std::min(r.records, r.last_signed_seq));
  o.AddRaw("audit_keys", JsonArray(keys));
  if (!r.ok) o.AddInt("first_bad_seq", r.first_bad_seq).Add("problem", r.problem);
  return o.Build();
}

void PrintReport(std::ostream& out, storage::TokenId token, const audit::VerifyReport& r) {
  out << "token " << token << ": " << r.records << " records, " << r.checkpoints << " signed checkpoints\n";
  for (size_t i = 0; i < r.key_fingerprints.size(); ++i) {
    out << "audit key " << i + 1 << ": sha256 " << r.key_fingerprints[i] << "\n";
  }
  if (r.last_signed_seq != 0) {
    out << "last signed checkpoint: " << r.last_signed_seq << ":" << HexEncode(r.last_signed_head) << "\n";
  }
  if (r.records > r.last_signed_seq) {
    out << "records " << r.last_signed_seq + 1 << ".." << r.records
        << " are not yet signed (written while nobody was logged in)\n";
  }
  out << (r.ok ? "verified: the log is intact\n"
               : "BROKEN at record " + std::to_string(r.first_bad_seq) + ": " + r.problem + "\n");
}

}  // namespace

Status CmdAudit(Context& ctx) {
  const std::string dir = ResolveVaultDir(ctx.args->Get("vault").value_or(""));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store,
                      storage::OpenStore(dir + "/vault.db", storage::StoreOptions{}));
  CV_ASSIGN_OR_RETURN(storage::TokenId token, PickToken(*store, ctx.args->Get("token")));
  audit::VerifyOptions options;
  options.trusted_key = ctx.args->Get("key-fingerprint");
  if (std::optional<std::string> cp = ctx.args->Get("checkpoint")) CV_RETURN_IF_ERROR(ParseCheckpoint(*cp, &options));
  CV_ASSIGN_OR_RETURN(audit::VerifyReport report, audit::VerifyLog(*store, token, options));
  if (ctx.args->Has("verify")) {
    if (ctx.json) {
      *ctx.out << ReportJson(token, report) << "\n";
    } else {
      PrintReport(*ctx.out, token, report);
    }
  } else {
    std::vector<std::string> items;
    CV_RETURN_IF_ERROR(store->ForEachEvent(token, [&](const storage::EventRow& e) {
      if (ctx.json) {
        items.push_back(EventJson(e));
      } else {
        PrintEvent(*ctx.out, e);
      }
      return OkStatus();
    }));
    if (ctx.json) *ctx.out << JsonObject().AddInt("token", token).AddRaw("events", JsonArray(items)).Build() << "\n";
  }
  if (!report.ok) {
    return Status(Reason::kCorruptStore, "the event log of token " + std::to_string(token) + " is broken at record " +
                                             std::to_string(report.first_bad_seq) + ": " + report.problem);
  }
  return OkStatus();
}

}  // namespace certvault::cli
