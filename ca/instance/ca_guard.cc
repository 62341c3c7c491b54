// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance guards before signing: database integrity, the token's CaState
// (state that must never go backwards) and clock sanity. See ca_state.h and
// docs/design/ca.md ("State that never goes backwards").
#include <openssl/x509.h>

#include <ctime>

#include "ca/instance/ca_instance.h"
#include "src/base/sntp.h"
#include "src/base/status_macros.h"
#include "src/base/utc_time.h"

namespace certvault::ca {
namespace {

constexpr int kTimeSourceTimeoutMs = 2000;
// The time source is asked again after this many seconds (ocsp serve).
constexpr int64_t kTimeSourceRecheck = 60;

std::string StateLabel(const CaConfig& cfg) { return cfg.name + "-state"; }

Result<CaState> DecodeAll(const std::vector<Bytes>& objects) {
  CaState merged;
  for (const Bytes& raw : objects) {
    CV_ASSIGN_OR_RETURN(CaState one, CaState::Decode(raw));
    merged.Merge(one);
  }
  return merged;
}

constexpr const char* kRestoreFix =
    ": the database is older than the CA (restored from an older backup?). Restore the newest backup of the "
    "database; if it is lost, re-enter the revocations it lacks, then run 'certvault-ca crl --after-restore'";

}  // namespace

Status CaInstance::UpdateState(const std::function<void(CaState&)>& change) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  CV_ASSIGN_OR_RETURN(CaToken::DataObjects raw, token_->ReadDataObjects(StateLabel(config_)));
  CV_ASSIGN_OR_RETURN(CaState current, DecodeAll(raw.values));
  CaState next = current;
  change(next);
  next.Merge(current);
  Bytes encoded = next.Encode();
  if (raw.values.size() == 1 && encoded == raw.values[0]) return OkStatus();
  return token_->WriteData(StateLabel(config_), encoded, raw.handles);
}

Status CaInstance::CheckNotRestored(const CaState& state) {
  for (const auto& [ca, id] : state.revocation_ids) {
    CV_ASSIGN_OR_RETURN(int64_t have, db_->MaxRevocationId(ca));
    if (have < id) {
      return FailedPreconditionError("the CA database lacks revocations of " + ca + " (its newest is #" +
                                     std::to_string(have) + ", the token recorded #" + std::to_string(id) + ")" +
                                     kRestoreFix);
    }
  }
  for (const auto& [key, number] : state.crl_numbers) {
    CV_ASSIGN_OR_RETURN(int64_t have, db_->LastCrlNumber(key.first, key.second));
    if (have < number) {
      return FailedPreconditionError("the CA database's last CRL number of " + key.first + " is " +
                                     std::to_string(have) + ", but CRL number " + std::to_string(number) +
                                     " was signed" + kRestoreFix);
    }
  }
  return OkStatus();
}

Status CaInstance::CheckTimeSource(int64_t now) {
  if (config_.time_source.empty() || now - time_source_checked_ < kTimeSourceRecheck) return OkStatus();
  Result<int64_t> remote = QueryNtpTime(config_.time_source, kTimeSourceTimeoutMs);
  if (!remote.ok()) {
    return FailedPreconditionError("refusing to sign: " + std::string(remote.status().message()) +
                                   " (time_source in ca.toml)");
  }
  int64_t skew = now - *remote;
  if (skew > config_.max_clock_skew_seconds || -skew > config_.max_clock_skew_seconds) {
    return FailedPreconditionError(
        "refusing to sign: the clock is " + std::to_string(skew) + " s away from " + config_.time_source +
        " (max_clock_skew_seconds = " + std::to_string(config_.max_clock_skew_seconds) + "); fix the system clock");
  }
  time_source_checked_ = now;
  return OkStatus();
}

Status CaInstance::CheckClock() {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const ossl::UniquePtr<X509>& cert : certs_) {
    if (cert == nullptr) continue;
    // X509_cmp_time: -1 when notBefore is after `now`.
    time_t t = static_cast<time_t>(now);
    if (X509_cmp_time(X509_get0_notBefore(cert.get()), &t) > 0) {
      return FailedPreconditionError("refusing to sign: the clock (" + UtcTimeText(now) +
                                     ") is before the notBefore of a CA certificate; fix the system clock");
    }
  }
  if (now < clock_floor_) {
    return FailedPreconditionError("refusing to sign: the clock (" + UtcTimeText(now) +
                                   ") is before this CA's last signature (" + UtcTimeText(clock_floor_) +
                                   "); fix the system clock");
  }
  return CheckTimeSource(now);
}

Status CaInstance::PrepareToSign() {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  if (prepared_) return CheckClock();
  CV_RETURN_IF_ERROR(db_->CheckIntegrity());
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> raw, token_->ReadData(StateLabel(config_)));
  CV_ASSIGN_OR_RETURN(CaState state, DecodeAll(raw));
  CV_RETURN_IF_ERROR(CheckNotRestored(state));
  for (CaRole role : {CaRole::kRoot, CaRole::kIssuing, CaRole::kOcsp}) (void)Cert(role);  // for their notBefore
  clock_floor_ = state.last_signed;
  CV_RETURN_IF_ERROR(CheckClock());
  CV_RETURN_IF_ERROR(RecordSigningTime());
  prepared_ = true;
  return OkStatus();
}

Status CaInstance::RecordSigningTime() {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  clock_floor_ = std::max(clock_floor_, now);
  return UpdateState([&](CaState& s) { s.last_signed = now; });
}

Status CaInstance::CheckCrlNumber(const std::string& ca, uint32_t partition, int64_t number) {
  // Before every CRL: a revocation deleted or altered behind the CA's back
  // would silently leave (or change in) this CRL.
  CV_RETURN_IF_ERROR(CheckAuditForCrl(ca));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> raw, token_->ReadData(StateLabel(config_)));
  CV_ASSIGN_OR_RETURN(CaState state, DecodeAll(raw));
  auto it = state.crl_numbers.find({ca, partition});
  if (it != state.crl_numbers.end() && number <= it->second) {
    return FailedPreconditionError("refusing to sign CRL number " + std::to_string(number) + " of " + ca + ": number " +
                                   std::to_string(it->second) + " was already signed" + kRestoreFix);
  }
  return OkStatus();
}

Status CaInstance::RecordCrl(const CrlRecord& crl) {
  return UpdateState([&](CaState& s) {
    int64_t& n = s.crl_numbers[{crl.ca, crl.partition}];
    n = std::max(n, crl.number);
    int64_t& r = s.revocation_ids[crl.ca];
    r = std::max(r, crl.max_revocation_id);
  });
}

Status CaInstance::RecordRevocations(const std::string& ca) {
  CV_ASSIGN_OR_RETURN(int64_t id, db_->MaxRevocationId(ca));
  return UpdateState([&](CaState& s) { s.revocation_ids[ca] = std::max(s.revocation_ids[ca], id); });
}

Status CaInstance::AcceptRestoredDatabase(const AuditActor& actor) {
  CV_ASSIGN_OR_RETURN(CaToken::DataObjects raw, token_->ReadDataObjects(StateLabel(config_)));
  CV_ASSIGN_OR_RETURN(CaState state, DecodeAll(raw.values));
  std::string detail;
  for (const auto& [key, number] : state.crl_numbers) {
    CV_RETURN_IF_ERROR(db_->RaiseCrlNumber(key.first, key.second, number + 1));
    detail +=
        key.first + "#" + std::to_string(key.second) + " CRL numbers continue after " + std::to_string(number) + "; ";
  }
  for (auto& [ca, id] : state.revocation_ids) {
    CV_ASSIGN_OR_RETURN(int64_t have, db_->MaxRevocationId(ca));
    detail += ca + " revocation mark " + std::to_string(id) + " -> " + std::to_string(have) + "; ";
    id = have;  // the operator has re-entered what the restored database lacked
  }
  CV_RETURN_IF_ERROR(token_->WriteData(StateLabel(config_), state.Encode(), raw.handles));
  return db_->AddAudit(MakeAuditEvent(actor, "after-restore", Name(CaRole::kIssuing), "database", detail));
}

Status CaInstance::RaiseCrlFloor(int64_t published, const AuditActor& actor) {
  if (published < 1) return InvalidArgumentError("--crl-floor: a cRLNumber of 1 or more");
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> raw, token_->ReadData(StateLabel(config_)));
  CV_ASSIGN_OR_RETURN(CaState state, DecodeAll(raw));
  std::string detail = "CRL numbers continue after " + std::to_string(published) + ":";
  for (const auto& [key, number] : state.crl_numbers) {
    CV_RETURN_IF_ERROR(db_->RaiseCrlNumber(key.first, key.second, published + 1));
    detail += " " + key.first + "#" + std::to_string(key.second);
  }
  return db_->AddAudit(MakeAuditEvent(actor, "crl-floor", Name(CaRole::kIssuing), "database", detail));
}

}  // namespace certvault::ca
