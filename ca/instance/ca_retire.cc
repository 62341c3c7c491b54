// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance: retiring a key generation whose certificate has expired
// (docs/design/ca.md "Key rollover", "Retirement"). Until then a retired
// generation signs CRLs and OCSP answers for what it issued; after it,
// every certificate it issued has ended (notAfter is capped at the
// issuer's), so once one last CRL is out its keys serve nothing.
#include <ctime>

#include "ca/instance/ca_instance.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

bool ExpiredAt(X509* cert, int64_t now) {
  time_t t = static_cast<time_t>(now);
  return X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0;
}

}  // namespace

Result<std::vector<uint32_t>> CaInstance::ExpiredWithKeys(CaRole role, int64_t now) {
  std::vector<uint32_t> out;
  for (uint32_t gen = 1; gen < Generation(role); ++gen) {
    Result<X509*> cert = CertOf(role, gen);
    if (!cert.ok() || !ExpiredAt(*cert, now)) continue;  // no certificate file: nothing to answer for
    Result<CaKey*> key = KeyOf(role, gen);
    if (key.ok()) {
      out.push_back(gen);
    } else if (key.status().code() != StatusCode::kNotFound) {
      return key.status();
    }
  }
  return out;
}

Status CaInstance::RetireGeneration(CaRole role, uint32_t gen, int64_t now, const AuditActor& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  if (gen == 0 || gen >= Generation(role)) {
    return FailedPreconditionError("only a retired generation can be retired, not generation " + std::to_string(gen));
  }
  CV_ASSIGN_OR_RETURN(X509 * cert, CertOf(role, gen));
  if (!ExpiredAt(cert, now)) {
    return FailedPreconditionError("generation " + std::to_string(gen) + "'s certificate has not expired");
  }
  std::vector<std::string> labels = {NameOf(role, gen)};
  if (role == CaRole::kIssuing) labels.push_back(NameOf(CaRole::kOcsp, gen));
  for (const std::string& label : labels) {
    gen_keys_.erase(label);  // the cached handle would name a destroyed object
    CV_RETURN_IF_ERROR(token_->DestroyKeyPair(label));
  }
  std::string detail = "generation " + std::to_string(gen) + " expired; destroyed";
  for (const std::string& label : labels) detail += " " + label;
  return db_->AddAudit(MakeAuditEvent(actor, "retire", NameOf(role, gen), "key", detail));
}

}  // namespace certvault::ca
