// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/audit/verify.h"

#include <limits>
#include <map>

#include "src/audit/audit_key.h"
#include "src/audit/event_chain.h"
#include "src/audit/event_log.h"
#include "src/base/status_macros.h"

namespace certvault::audit {
namespace {

// Checker: the state of one verification.
class Checker {
 public:
  Checker(storage::TokenId token, VerifyReport* report) : token_(token), report_(report) {}

  // Fail: records a problem at `seq`; the lowest seq wins (the first broken link).
  void Fail(uint64_t seq, std::string problem) {
    if (!report_->ok && report_->first_bad_seq <= seq) return;
    report_->ok = false;
    report_->first_bad_seq = seq;
    report_->problem = std::move(problem);
  }

  Status CheckChain(const std::vector<storage::EventRow>& events) {
    CV_ASSIGN_OR_RETURN(Bytes prev, GenesisHash(token_));
    for (size_t i = 0; i < events.size(); ++i) {
      const storage::EventRow& e = events[i];
      const uint64_t want = i + 1;
      if (e.seq != want) {
        Fail(want, "record " + std::to_string(want) + " is missing (deleted), the next one found is " +
                       std::to_string(e.seq));
        return OkStatus();
      }
      CV_ASSIGN_OR_RETURN(Bytes h, EventHash(e));
      if (e.prev_hash != prev) {
        Fail(want, "record " + std::to_string(want) +
                       " does not link to the record before it (a record inserted, deleted or reordered)");
        return OkStatus();
      }
      if (h != e.hash) {
        Fail(want, "record " + std::to_string(want) + " does not match its hash (edited)");
        return OkStatus();
      }
      prev = e.hash;
    }
    return OkStatus();
  }

  // ValidKeys: key n is valid for checkpoints at seq in (from[n], to[n]].
  void CheckKeys(const std::vector<storage::AuditKeyRow>& keys, const std::vector<storage::EventRow>& events) {
    uint64_t from = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      const storage::AuditKeyRow& k = keys[i];
      Result<std::string> fpr = KeyFingerprint(k.public_key);
      report_->key_fingerprints.push_back(fpr.ok() ? *fpr : "?");
      if (k.key_no != i + 1) {
        Fail(from + 1, "audit key " + std::to_string(i + 1) + " is missing");
        return;
      }
      if (i > 0) {
        std::optional<uint64_t> at = FindRollover(k, events, from);
        if (!at) {
          Fail(from + 1, "audit key " + std::to_string(k.key_no) + " was not announced by a rollover record");
          return;
        }
        windows_.back().second = *at;
        from = *at;
      }
      windows_.push_back({from, std::numeric_limits<uint64_t>::max()});
      Result<AuditVerifier> v = AuditVerifier::Parse(k.public_key);
      verifiers_.push_back(v.ok() ? std::optional<AuditVerifier>(std::move(*v)) : std::nullopt);
    }
  }

  void CheckCheckpoints(const std::vector<storage::CheckpointRow>& cps, const std::vector<storage::EventRow>& events) {
    for (const storage::CheckpointRow& cp : cps) {
      const std::string name = "checkpoint at record " + std::to_string(cp.seq);
      if (cp.seq == 0 || cp.seq > events.size()) {
        Fail(std::min<uint64_t>(cp.seq, events.size() + 1), name + " is past the end of the log (" +
                                                                std::to_string(events.size()) +
                                                                " records): the tail was truncated");
        continue;
      }
      if (cp.head != events[cp.seq - 1].hash) {
        Fail(cp.seq, name + " does not match record " + std::to_string(cp.seq));
        continue;
      }
      if (cp.key_no == 0 || cp.key_no > verifiers_.size() || !verifiers_[cp.key_no - 1] ||
          !verifiers_[cp.key_no - 1]->Verify(CheckpointMessage(cp), cp.signature)) {
        Fail(cp.seq, name + " has no valid signature of audit key " + std::to_string(cp.key_no) + " (forged)");
        continue;
      }
      const auto& [lo, hi] = windows_[cp.key_no - 1];
      if (cp.seq <= lo || cp.seq > hi) {
        Fail(cp.seq, name + " is signed by audit key " + std::to_string(cp.key_no) + ", not valid at that record");
        continue;
      }
      signed_.insert({cp.seq, cp.key_no});
      if (cp.seq > report_->last_signed_seq) {
        report_->last_signed_seq = cp.seq;
        report_->last_signed_head = cp.head;
      }
    }
    // A rollover counts only if the previous key signed the record itself.
    for (size_t n = 1; n < windows_.size(); ++n) {
      uint64_t at = windows_[n].first;
      auto it = signed_.find(at);
      if (it == signed_.end() || it->second != n) {
        Fail(at, "the rollover to audit key " + std::to_string(n + 1) + " at record " + std::to_string(at) +
                     " is not signed by key " + std::to_string(n));
      }
    }
  }

  void CheckTrust(const VerifyOptions& options) {
    if (!options.trusted_key) return;
    for (const std::string& f : report_->key_fingerprints) {
      if (f == *options.trusted_key) return;
    }
    Fail(1, "the audit key " + *options.trusted_key + " is not one of this log's keys");
  }

  void CheckExpected(const VerifyOptions& options, const std::vector<storage::EventRow>& events) {
    if (!options.expect_seq) return;
    uint64_t s = *options.expect_seq;
    if (s == 0 || s > events.size()) {
      Fail(std::min<uint64_t>(s, events.size() + 1),
           "record " + std::to_string(s) + " of the expected checkpoint is gone: the tail was truncated");
    } else if (events[s - 1].hash != options.expect_head) {
      Fail(s, "record " + std::to_string(s) + " is not the one of the expected checkpoint");
    }
  }

 private:
  // FindRollover: the seq of the rollover record announcing `k`, after `from`.
  std::optional<uint64_t> FindRollover(const storage::AuditKeyRow& k, const std::vector<storage::EventRow>& events,
                                       uint64_t from) {
    Result<std::string> detail = RolloverDetail(k.key_no, k.public_key);
    if (!detail.ok()) return std::nullopt;
    for (const storage::EventRow& e : events) {
      if (e.seq > from && e.action == kKeyRollover && e.detail == *detail) return e.seq;
    }
    return std::nullopt;
  }

  storage::TokenId token_;
  VerifyReport* report_;
  std::vector<std::pair<uint64_t, uint64_t>> windows_;
  std::vector<std::optional<AuditVerifier>> verifiers_;  // key n at n-1
  std::map<uint64_t, uint32_t> signed_;                  // checkpoint seq -> key_no, valid ones
};

}  // namespace

Result<VerifyReport> VerifyLog(storage::Store& store, storage::TokenId token, const VerifyOptions& options) {
  std::vector<storage::EventRow> events;
  CV_RETURN_IF_ERROR(store.ForEachEvent(token, [&](const storage::EventRow& e) {
    events.push_back(e);
    return OkStatus();
  }));
  CV_ASSIGN_OR_RETURN(std::vector<storage::CheckpointRow> cps, store.ListCheckpoints(token));
  CV_ASSIGN_OR_RETURN(std::vector<storage::AuditKeyRow> keys, store.ListAuditKeys(token));
  VerifyReport report;
  report.records = events.size();
  report.checkpoints = cps.size();
  Checker checker(token, &report);
  CV_RETURN_IF_ERROR(checker.CheckChain(events));
  checker.CheckKeys(keys, events);
  checker.CheckCheckpoints(cps, events);
  checker.CheckTrust(options);
  checker.CheckExpected(options, events);
  return report;
}

}  // namespace certvault::audit
