// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/audit/audit_verify.h"

#include <map>
#include <set>
#include <sstream>

#include "ca/db/audit_chain.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {
namespace {

// Walk: the state carried from one record to the next.
struct Walk {
  const AuditVerifyOptions& options;
  std::map<int64_t, AuditCheckpoint>& checkpoints;
  AuditVerifyReport& report;
  int64_t expect_seq;
  Bytes expect_prev;
};

Status Broken(AuditVerifyReport& report, int64_t seq, std::string problem) {
  report.ok = false;
  report.first_bad_seq = seq;
  report.problem = std::move(problem);
  return Status(StatusCode::kCancelled, "stop");  // ends the read; the report carries the finding
}

void NoteRevocation(const AuditEvent& e, AuditVerifyReport& report) {
  if (e.action != "revoke" || e.result != "ok") return;
  RevokeFact f;
  f.revoked_at = e.at;
  std::istringstream in(e.detail);
  std::string word;
  while (in >> word) {
    if (word.starts_with("reason=")) f.reason = std::atoi(word.c_str() + 7);
    if (word.starts_with("invalidity=")) f.invalidity_date = std::atoll(word.c_str() + 11);
  }
  report.revocations[{e.ca, e.object}] = f;
}

Status Step(Walk& w, const AuditEvent& e) {
  std::string at = "record " + std::to_string(w.expect_seq);
  if (e.seq > w.expect_seq) return Broken(w.report, w.expect_seq, at + " is missing (deleted)");
  if (e.seq < w.expect_seq) return Broken(w.report, e.seq, "record " + std::to_string(e.seq) + " is out of order");
  if (AuditRecordHash(e) != e.hash) return Broken(w.report, e.seq, at + " was edited (its hash does not recompute)");
  if (e.prev_hash != w.expect_prev) {
    return Broken(w.report, e.seq, at + " does not link to record " + std::to_string(e.seq - 1) +
                                       " (a record was inserted, deleted or reordered before it)");
  }
  auto cp = w.checkpoints.find(e.seq);
  if (cp != w.checkpoints.end() && cp->second.hash != e.hash) {
    return Broken(w.report, e.seq, at + " differs from the signed checkpoint at seq " + std::to_string(e.seq) +
                                       " (the chain was rewritten)");
  }
  NoteRevocation(e, w.report);
  w.report.records++;
  w.report.last_seq = e.seq;
  w.expect_seq = e.seq + 1;
  w.expect_prev = e.hash;
  return OkStatus();
}

// CheckCheckpoints: every stored (and the external) checkpoint verifies.
bool CheckCheckpoints(const AuditVerifyOptions& o, std::map<int64_t, AuditCheckpoint>& cps, AuditVerifyReport& r) {
  for (const auto& [seq, cp] : cps) {
    if (o.audit_key != nullptr && !VerifyCheckpointSignature(o.audit_key, o.db_name, cp).ok()) {
      (void)Broken(r, seq, "the checkpoint at seq " + std::to_string(seq) + " is forged (its signature does not "
                                                                          "verify under the audit key)");
      return false;
    }
    r.checkpoints++;
  }
  return true;
}

void CheckTail(const AuditChainState& state, const std::map<int64_t, AuditCheckpoint>& cps, AuditVerifyReport& r,
               const Bytes& last_hash) {
  int64_t end = r.last_seq;
  if (!cps.empty() && cps.rbegin()->first > end) {
    r.ok = false;
    r.first_bad_seq = end + 1;
    r.problem = "the tail was truncated: the records end at seq " + std::to_string(end) +
                " but a signed checkpoint covers seq " + std::to_string(cps.rbegin()->first);
  } else if (state.head_seq != end || (end > 0 && state.head_hash != last_hash)) {
    r.ok = false;
    r.first_bad_seq = end + 1;
    r.problem = "the records end at seq " + std::to_string(end) + " but the chain head says seq " +
                std::to_string(state.head_seq) + " (tail truncated or head edited)";
  } else if (state.unchained_after_start > 0) {
    r.ok = false;
    r.problem = std::to_string(state.unchained_after_start) +
                " records without a sequence number were written after the chain began (seq removed)";
  }
}

}  // namespace

Result<AuditVerifyReport> VerifyAuditChain(CertDb& db, const AuditVerifyOptions& options) {
  AuditVerifyReport report;
  CV_ASSIGN_OR_RETURN(AuditChainState state, db.ReadAuditState());
  report.legacy_rows = state.legacy_rows - state.unchained_after_start;
  CV_ASSIGN_OR_RETURN(std::vector<AuditCheckpoint> list, db.ListCheckpoints());
  std::map<int64_t, AuditCheckpoint> cps;
  for (AuditCheckpoint& cp : list) cps.emplace(cp.seq, std::move(cp));
  if (options.external.has_value()) {
    auto [it, fresh] = cps.emplace(options.external->seq, *options.external);
    if (!fresh && it->second.hash != options.external->hash) {
      (void)Broken(report, it->first, "the stored checkpoint at seq " + std::to_string(it->first) +
                                          " differs from the external one");
      return report;
    }
  }
  if (!CheckCheckpoints(options, cps, report)) return report;
  Walk w{options, cps, report, 1, AuditGenesis()};
  Status st = db.ReadAuditChain(1, 0, [&](const AuditEvent& e) { return Step(w, e); });
  if (!report.ok) return report;
  CV_RETURN_IF_ERROR(st);
  CheckTail(state, cps, report, w.expect_prev);
  return report;
}

Status CheckRevocationsAgainstAudit(CertDb& db, const std::string& ca, const AuditVerifyReport& report) {
  const char* kFix = ": the revocations were changed behind the CA's back. Restore the database from a backup made "
                     "after the last revocation, or re-enter the revocation with 'certvault-ca revoke'; "
                     "'certvault-ca audit verify' shows the chain";
  for (bool from_certs : {false, true}) {
    CV_ASSIGN_OR_RETURN(std::vector<CertRecord> rows, db.RevocationRows(ca, from_certs));
    const char* table = from_certs ? "certificates" : "revocations";
    for (const CertRecord& r : rows) {
      auto it = report.revocations.find({ca, r.serial});
      if (it == report.revocations.end()) {
        return DataLossError("refusing to sign: the " + std::string(table) + " row of " + r.serial +
                             " has no audit record (added)" + kFix);
      }
      const RevokeFact& f = it->second;
      if (f.revoked_at != r.revoked_at || f.reason != r.reason || f.invalidity_date != r.invalidity_date) {
        return DataLossError("refusing to sign: the revocation of " + r.serial + " in the " + table +
                             " table differs from its audit record (altered)" + kFix);
      }
    }
    // Every row matched a record of its own (serials are unique per CA in
    // both tables): equal counts mean none is missing.
    size_t recorded = 0;
    for (const auto& [key, fact] : report.revocations) recorded += key.first == ca ? 1 : 0;
    if (recorded != rows.size()) {
      std::set<std::string> present;
      for (const CertRecord& r : rows) present.insert(r.serial);
      for (const auto& [key, fact] : report.revocations) {
        if (key.first == ca && present.count(key.second) == 0) {
          return DataLossError("refusing to sign: the revocation of " + key.second + " is missing from the " + table +
                               " table (deleted)" + kFix);
        }
      }
    }
  }
  return OkStatus();
}

std::string CheckpointLine(const std::string& db, const AuditCheckpoint& cp) {
  return "ca=" + db + " seq=" + std::to_string(cp.seq) + " at=" + std::to_string(cp.at) + " hash=" + ToHex(cp.hash) +
         " key=" + cp.key_label + " sig=" + ToHex(cp.signature);
}

Result<AuditCheckpoint> ParseCheckpointLine(std::string_view line, std::string* out_db) {
  AuditCheckpoint cp;
  std::map<std::string, std::string> kv;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word) {
    size_t eq = word.find('=');
    if (eq != std::string::npos) kv[word.substr(0, eq)] = word.substr(eq + 1);
  }
  for (const char* k : {"ca", "seq", "at", "hash", "key", "sig"}) {
    if (kv[k].empty()) return InvalidArgumentError(std::string("checkpoint: the field ") + k + "= is missing");
  }
  char* end = nullptr;
  cp.seq = std::strtoll(kv["seq"].c_str(), &end, 10);
  if (*end != '\0' || cp.seq <= 0) return InvalidArgumentError("checkpoint: bad seq=");
  cp.at = std::strtoll(kv["at"].c_str(), &end, 10);
  if (*end != '\0') return InvalidArgumentError("checkpoint: bad at=");
  cp.hash = FromHex(kv["hash"]);
  cp.signature = FromHex(kv["sig"]);
  if (cp.hash.size() != kAuditHashSize) return InvalidArgumentError("checkpoint: bad hash=");
  if (cp.signature.empty()) return InvalidArgumentError("checkpoint: bad sig=");
  cp.key_label = kv["key"];
  if (out_db != nullptr) *out_db = kv["ca"];
  return cp;
}

Status VerifyCheckpointSignature(EVP_PKEY* key, const std::string& db, const AuditCheckpoint& cp) {
  Bytes msg = AuditCheckpointMessage(db, cp);
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", crypto::LibCtx(), crypto::kPropq, key, nullptr) != 1) {
    return InternalError("EVP_DigestVerifyInit_ex failed");
  }
  if (EVP_DigestVerify(ctx.get(), cp.signature.data(), cp.signature.size(), msg.data(), msg.size()) != 1) {
    return Status(Reason::kSignatureInvalid, "the checkpoint signature does not verify");
  }
  return OkStatus();
}

}  // namespace certvault::ca
