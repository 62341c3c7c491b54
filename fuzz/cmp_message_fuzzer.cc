// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CMP request decoding of `certvault-ca serve` (ca/cmp/cmp_envelope.cc
// and the request paths of ca/server/cmp_service.cc): the envelope read
// with DerReader, OpenSSL's d2i_OSSL_CMP_MSG, and for what both accept the
// per-body extraction the callbacks do: a CertTemplate's public key and
// content (ParseVerifiedRequest), a p10cr's CSR intake, an rr's CRLReason;
// and the genm contents of ca/cmp/cmp_genm.h (a crlStatusList is decoded
// from a client's genm) on the raw input.
// Invariants: the envelope and OpenSSL agree on the body type; extraCerts
// lie within the input; nothing crashes or leaks.
#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <openssl/err.h>

#include <cstdint>
#include <cstdlib>

#include "ca/cmp/cmp_envelope.h"
#include "ca/cmp/cmp_genm.h"
#include "ca/cmp/cmp_ptr.h"
#include "ca/issuance/csr.h"

namespace {

using namespace certvault;  // NOLINT(build/namespaces)

// TemplateOf: the first CertReqMsg's template of an ir/cr/kur, read back
// through OpenSSL's own accessors from a re-parse of the body.
void CheckCertRequest(const ca::cmp::Envelope& env) {
  const uint8_t* p = env.body.data();
  OSSL_CRMF_MSGS* msgs = d2i_OSSL_CRMF_MSGS(nullptr, &p, static_cast<long>(env.body.size()));  // NOLINT
  if (msgs == nullptr) return;
  if (sk_OSSL_CRMF_MSG_num(msgs) > 0) {
    const OSSL_CRMF_CERTTEMPLATE* tmpl = OSSL_CRMF_MSG_get0_tmpl(sk_OSSL_CRMF_MSG_value(msgs, 0));
    if (tmpl != nullptr) {
      auto spki = ca::cmp::TemplateSpki(tmpl);
      if (spki.ok()) {
        (void)ca::ParseVerifiedRequest(*spki, OSSL_CRMF_CERTTEMPLATE_get0_subject(tmpl),
                                       OSSL_CRMF_CERTTEMPLATE_get0_extensions(tmpl));
      }
    }
  }
  OSSL_CRMF_MSGS_free(msgs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)ca::cmp::DecodeCrlStatusList({data, size});
  (void)ca::cmp::DecodeRootCaKeyUpdate({data, size});
  (void)ca::cmp::DecodeCrls({data, size});
  auto env = ca::cmp::DecodeEnvelope({data, size});
  const uint8_t* p = data;
  ossl::UniquePtr<OSSL_CMP_MSG> msg(d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(size)));  // NOLINT
  ERR_clear_error();
  if (!env.ok()) return 0;
  for (const Bytes& c : env->extra_certs) {
    if (c.empty() || c.size() > size) std::abort();
  }
  if (msg == nullptr || p != data + size) return 0;
  if (OSSL_CMP_MSG_get_bodytype(msg.get()) != env->body_type) std::abort();
  switch (env->body_type) {
    case ca::cmp::kIr:
    case ca::cmp::kCr:
    case ca::cmp::kKur:
      CheckCertRequest(*env);
      break;
    case ca::cmp::kP10cr:
      (void)ca::ParseCsr(env->body, 8192);
      break;
    case ca::cmp::kRr:
      (void)ca::cmp::RevocationReason(env->body);
      break;
    default:
      break;
  }
  ERR_clear_error();
  return 0;
}
