// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/issuer.h"

#include <atomic>
#include <thread>

#include "ca/issuance/csr.h"
#include "ca/issuance/key_attestation.h"
#include "ca/issuance/usage_period.h"
#include "ca/policy/policy_check.h"
#include "ca/policy/policy_violation.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr int kMaxSerialRetries = 4;

}  // namespace

Issuer::Issuer(const CaConfig& config, std::string ca_name, CaKey& key, X509* ca_cert, CertDb& db, AuditActor actor,
               IssuerOptions options)
    : config_(config),
      ca_name_(std::move(ca_name)),
      key_(key),
      ca_cert_(ca_cert),
      db_(db),
      actor_(std::move(actor)),
      options_(options) {}

Result<const CertTemplate*> Issuer::TemplateFor(const std::string& profile) {
  auto it = templates_.find(profile);
  if (it != templates_.end()) return &it->second;
  auto p = config_.profiles.find(profile);
  if (p == config_.profiles.end()) return NotFoundError("no profile '" + profile + "' in ca.toml");
  if (p->second.is_ca) return PermissionDeniedError("profile '" + profile + "' issues CA certificates; use init");
  if (p->second.internal) {
    return PermissionDeniedError("profile '" + profile + "' is internal: the CA's own OCSP signer (ocsp rotate)");
  }
  if (p->second.require_attestation) {
    CV_ASSIGN_OR_RETURN(attestation_roots_[p->second.name], LoadAttestationRoots(p->second, config_.dir));
  }
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(p->second, config_, ca_cert_));
  return &templates_.emplace(profile, std::move(tmpl)).first->second;
}

void Issuer::SignOne(const CertTemplate& tmpl, const IssueItem& item, IssueOutcome& out, CertRecord& rec) {
  out.source = item.source;
  auto run = [&]() -> Status {
    ParsedCsr parsed;
    if (item.verified == nullptr) {
      CV_ASSIGN_OR_RETURN(parsed, ParseCsr(item.csr, config_.max_csr_bytes));
    }
    const ParsedCsr& csr = item.verified != nullptr ? *item.verified : parsed;
    if (Status policy = CheckCsrKeyType(config_.policy.get(), csr.content.key_algorithm); !policy.ok()) {
      out.policy_refused = true;
      return policy;
    }
    CV_ASSIGN_OR_RETURN(Approved approved, CheckAgainstProfile(tmpl.profile(), csr.content));
    if (tmpl.profile().require_attestation) {
      auto roots = attestation_roots_.find(tmpl.profile().name);
      if (roots == attestation_roots_.end()) return InternalError("attestation roots not loaded");
      CV_RETURN_IF_ERROR(CheckCsrAttestation(csr, roots->second.get()));
    }
    // Whatever the profile says, nothing outside the CA's own nameConstraints.
    CV_RETURN_IF_ERROR(CheckNameConstraints(name_constraints_, approved.subject, approved.sans));
    if (!item.require_subject.empty() && SubjectText(approved.subject) != item.require_subject) {
      return PermissionDeniedError("the subject differs from the certificate being renewed");
    }
    if (item.require_sans.has_value() && !SameSans(approved.sans, *item.require_sans)) {
      return PermissionDeniedError("the subjectAltNames differ from the certificate being renewed");
    }
    CV_ASSIGN_OR_RETURN(Serial serial, NewSerial());
    CertRequest req{approved.subject, approved.sans, csr.public_key.get(), csr.spki, serial, std::time(nullptr)};
    CV_ASSIGN_OR_RETURN(BuiltCert built, BuildCertificate(tmpl, req, key_, options_.verify));
    rec = CertRecord{ca_name_, serial.Hex(), SubjectText(approved.subject), tmpl.profile().name,
                     built.not_before, built.not_after, std::move(built.der)};
    rec.actor = item.actor.has_value() ? &*item.actor : nullptr;
    rec.cmp_tid = item.cmp_tid;
    rec.cmp_claim = item.cmp_claim;
    out.serial = rec.serial;
    return OkStatus();
  };
  out.status = run();
}

Status Issuer::Commit(const CertTemplate& tmpl, std::span<const IssueItem> items, std::vector<IssueOutcome>& outs,
                      std::vector<CertRecord>& recs) {
  std::vector<size_t> pending, violations;
  std::vector<AuditEvent> refusals;  // recorded in the first transaction of the chunk
  for (size_t i = 0; i < outs.size(); ++i) {
    const AuditActor& actor = items[i].actor.has_value() ? *items[i].actor : actor_;
    if (outs[i].status.ok()) {
      pending.push_back(i);
    } else if (outs[i].policy_refused) {  // its own action, with the rule (issue 17)
      violations.push_back(i);
      refusals.push_back(PolicyViolationEvent(actor, ca_name_, items[i].source,
                                              PolicyRuleOf(outs[i].status, "[algorithms]"), outs[i].status));
    } else {
      refusals.push_back(MakeAuditEvent(actor, "refuse", ca_name_, items[i].source, outs[i].status.ToString(),
                                        std::string(StatusCodeName(outs[i].status.code()))));
    }
  }
  // The alerts once the records are durable (a failing channel changes nothing).
  auto alert = [&] {
    for (size_t i : violations) {
      (void)AlertPolicyViolation(config_.audit, items[i].actor.has_value() ? *items[i].actor : actor_, ca_name_,
                                 PolicyRuleOf(outs[i].status, "[algorithms]"), outs[i].status);
    }
  };
  if (pending.empty() && !refusals.empty()) {
    std::vector<bool> none;
    CV_RETURN_IF_ERROR(db_.InsertCertificates({}, actor_, none, refusals));
    alert();
    return OkStatus();
  }
  for (int attempt = 0; !pending.empty(); ++attempt) {
    if (attempt == kMaxSerialRetries) return InternalError("serial collisions persist; the DRBG is suspect");
    std::vector<CertRecord> batch;
    for (size_t i : pending) batch.push_back(recs[i]);
    std::vector<bool> inserted;
    CV_RETURN_IF_ERROR(db_.InsertCertificates(batch, actor_, inserted, refusals));
    if (!refusals.empty()) alert();
    refusals.clear();
    std::vector<size_t> again;
    for (size_t k = 0; k < pending.size(); ++k) {
      size_t i = pending[k];
      if (inserted[k]) {
        outs[i].der = std::move(recs[i].der);
        continue;
      }
      // Another certificate already has this serial: sign anew.
      SignOne(tmpl, items[i], outs[i], recs[i]);
      if (outs[i].status.ok()) again.push_back(i);
    }
    pending = std::move(again);
  }
  return OkStatus();
}

void Issuer::SignChunk(const CertTemplate& tmpl, Chunk& c) {
  c.outs.assign(c.items.size(), IssueOutcome{});
  c.recs.assign(c.items.size(), CertRecord{});
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < c.items.size(); i = next++) SignOne(tmpl, c.items[i], c.outs[i], c.recs[i]);
  };
  size_t n = std::max<uint32_t>(1, options_.threads);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n && t < c.items.size(); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
}

// Issue: chunk k+1 is signed while chunk k is committed on another thread,
// so the database's latency (fsync, PostgreSQL round trips) overlaps with
// signing. Outcomes are returned only after their chunk has committed.
Result<std::vector<IssueOutcome>> Issuer::Issue(std::span<const IssueItem> items, const std::string& profile) {
  CV_ASSIGN_OR_RETURN(const CertTemplate* tmpl, TemplateFor(profile));
  if (Status usage = CheckIssuingKeyUsage(config_, ca_cert_, static_cast<int64_t>(std::time(nullptr))); !usage.ok()) {
    // The crypto-period is policy too: a policy violation, audited and alerted.
    if (usage.code() == StatusCode::kFailedPrecondition) {
      (void)RecordPolicyViolation(db_, config_.audit, actor_, ca_name_, "issue",
                                  "[crypto_periods] max_issuing_key_usage_days (ca.toml issuing_key_usage_days)", usage);
    }
    return usage;
  }
  if (!name_constraints_read_) {
    CV_ASSIGN_OR_RETURN(name_constraints_, NameConstraintsOf(ca_cert_));
    name_constraints_read_ = true;
  }
  std::vector<IssueOutcome> all;
  all.reserve(items.size());
  Chunk chunks[2];
  std::thread committer;
  Status committed;
  auto finish = [&](Chunk& c) -> Status {
    committer.join();
    CV_RETURN_IF_ERROR(committed);
    if (options_.on_commit) options_.on_commit(c.outs);
    for (IssueOutcome& o : c.outs) all.push_back(std::move(o));
    return OkStatus();
  };
  size_t k = 0;
  for (size_t begin = 0; begin < items.size(); begin += options_.chunk, ++k) {
    Chunk& c = chunks[k % 2];
    c.items = items.subspan(begin, std::min(options_.chunk, items.size() - begin));
    SignChunk(*tmpl, c);
    if (committer.joinable()) CV_RETURN_IF_ERROR(finish(chunks[(k + 1) % 2]));
    committer = std::thread([this, tmpl, &c, &committed] { committed = Commit(*tmpl, c.items, c.outs, c.recs); });
  }
  if (committer.joinable()) CV_RETURN_IF_ERROR(finish(chunks[(k + 1) % 2]));
  return all;
}

}  // namespace certvault::ca
