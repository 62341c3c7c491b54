// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Internals shared by cmp_service.cc (HTTP, protection, OpenSSL's server),
// cmp_requests.cc (the ir/cr/p10cr/kur/rr/certConf callbacks) and
// cmp_general.cc (genm).
// Not a public interface.
#ifndef CERTVAULT_CA_SERVER_CMP_SERVICE_INTERNAL_H_
#define CERTVAULT_CA_SERVER_CMP_SERVICE_INTERNAL_H_

#include <openssl/cmp.h>

#include <chrono>
#include <string>

#include "ca/cmp/cmp_envelope.h"
#include "ca/server/cmp_service.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::ca {

struct CmpService::Req {
  CmpService* svc = nullptr;
  uint64_t id = 0;
  std::shared_ptr<const CmpGeneration> gen;  // the generation this request started with
  cmp::Envelope env;
  std::string tid;    // hex
  std::string label;  // /p/<label>, or ""
  Status auth = UnauthenticatedError("the request is not protected");
  ossl::UniquePtr<X509> signer;  // the CMP protection certificate
  CertRecord own;                // signer's record when this CA issued it
  std::string code_id;
  SecretBytes secret;
  std::string op = "cmp", client, serial, reason;
  bool issued = false;
  Bytes cert_der;  // the certificate of this transaction
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

namespace cmp_internal {

std::string NameText(const X509_NAME* name);
std::string SerialHex(const ASN1_INTEGER* serial);
// Der: the encoding `i2d(&buf)` makes (empty on failure).
template <typename I2d>
Bytes Der(I2d i2d) {
  unsigned char* buf = nullptr;
  int len = i2d(&buf);
  Bytes out;
  if (len > 0) out.assign(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}
Bytes PubkeyDer(X509_PUBKEY* pk);
// Rejection: RFC 9483 §3.6.4 PKIStatusInfo with a failInfo bit for `st`;
// the reason goes to the access log.
OSSL_CMP_PKISI* Rejection(const Status& st, CmpService::Req& r);

}  // namespace cmp_internal
}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_CMP_SERVICE_INTERNAL_H_
