// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault policy check [--token T] [--json]: the vault's tokens against
// the custody rules of its policy.toml ([quorum], [backup], [audit];
// src/policy/custody.h, docs/design/policy.md "Custody"). It reads only:
// the quorum record as stored, the event log's last successful backup, the
// token's event-log flag; no PIN. Exit 0 when every token meets every
// rule (or no policy is configured), exit 5 (refused by policy) otherwise,
// with the findings on standard output all the same.
#include <ctime>

#include "cli/command_context.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"
#include "src/policy/custody.h"
#include "src/quorum/quorum_internal.h"

namespace certvault::cli {
namespace {

// LastBackup: the time of the token's last successful `backup` event.
Result<std::optional<int64_t>> LastBackup(storage::Store& store, storage::TokenId token) {
  std::optional<int64_t> last;
  CV_RETURN_IF_ERROR(store.ForEachEvent(token, [&](const storage::EventRow& e) {
    if (e.action == "backup" && e.result == "ok") last = e.time_ms / 1000;
    return OkStatus();
  }));
  return last;
}

Result<kmpolicy::TokenCustody> CustodyOf(storage::Store& store, const storage::TokenRow& t) {
  kmpolicy::TokenCustody c;
  c.token = t.label;
  c.event_log = (t.flags & core::kTokenFlagEventLog) != 0;
  if (Result<quorum::QuorumConfig> q = quorum::internal::PeekQuorum(store, t.token_id); q.ok()) {
    c.quorum_k = q->k;
    c.quorum_n = q->n;
  }
  CV_ASSIGN_OR_RETURN(c.last_backup_unix, LastBackup(store, t.token_id));
  return c;
}

std::string FindingsJson(const std::string& token, const std::vector<kmpolicy::Finding>& findings) {
  std::vector<std::string> items;
  for (const kmpolicy::Finding& f : findings) {
    items.push_back(JsonObject().Add("rule", f.rule).AddBool("ok", f.ok).Add("detail", f.detail).Build());
  }
  return JsonObject().Add("token", token).AddRaw("findings", JsonArray(items)).Build();
}

void PrintFindings(Context& ctx, const std::string& token, const std::vector<kmpolicy::Finding>& findings) {
  for (const kmpolicy::Finding& f : findings) {
    *ctx.out << "token " << token << ": " << f.rule << " " << (f.ok ? "ok" : "VIOLATED") << ": " << f.detail << "\n";
  }
}

}  // namespace

Status CmdPolicy(Context& ctx) {
  const std::vector<std::string>& pos = ctx.args->positional();
  if (pos.size() != 1 || pos[0] != "check") return InvalidArgumentError("usage: certvault policy check [--token T]");
  BackendOptions options;
  options.vault_dir = ctx.vault_dir;
  CV_ASSIGN_OR_RETURN(std::unique_ptr<Backend> backend, OpenEmbeddedBackend(options));
  auto* embedded = dynamic_cast<core::EmbeddedBackend*>(backend.get());
  if (embedded == nullptr) return FailedPreconditionError("policy check runs on an embedded vault");
  const kmpolicy::Policy* policy = embedded->KmPolicy();
  if (policy == nullptr) {
    *ctx.out << (ctx.json ? "{\"policy\":null,\"tokens\":[]}" : "no policy configured ([vault] policy)") << "\n";
    return OkStatus();
  }
  CV_ASSIGN_OR_RETURN(storage::Store * store, embedded->MaintenanceStore());
  CV_ASSIGN_OR_RETURN(std::vector<storage::TokenRow> tokens, store->ListTokens());
  std::optional<std::string> want = ctx.args->Get("token");
  bool all_ok = true;
  std::vector<std::string> json;
  for (const storage::TokenRow& t : tokens) {
    if (want && t.label != *want && t.serial != *want) continue;
    CV_ASSIGN_OR_RETURN(kmpolicy::TokenCustody custody, CustodyOf(*store, t));
    std::vector<kmpolicy::Finding> findings =
        kmpolicy::CheckCustody(*policy, custody, static_cast<int64_t>(std::time(nullptr)));
    all_ok &= kmpolicy::AllOk(findings);
    if (ctx.json)
      json.push_back(FindingsJson(t.label, findings));
    else
      PrintFindings(ctx, t.label, findings);
  }
  if (ctx.json) {
    *ctx.out << JsonObject().Add("policy", policy->name).AddRaw("tokens", JsonArray(json)).Build() << "\n";
  }
  ctx.out->flush();
  if (all_ok) return OkStatus();
  return PermissionDeniedError("the vault does not meet the policy " + policy->name);
}

}  // namespace certvault::cli
