// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance::IssueOperatorCert: the certificate an operator signs in with
// (docs/design/roles.md). The operator's key is generated in their own
// token; the CA sees only the CSR. The subject is the identity's name, not
// what the CSR asks for, so that the certificate names whom the database
// binds it to.
#include <ctime>

#include "ca/instance/ca_instance.h"
#include "ca/issuance/cert_builder.h"
#include "ca/issuance/csr.h"
#include "ca/issuance/serial.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"

namespace certvault::ca {
namespace {

// OperatorProfile: the built-in profile "operator": a TLS client
// certificate (RFC 5280 §4.2.1.12 id-kp-clientAuth) for the admin API. It
// is internal by construction (never read from ca.toml, so `issue` and EST
// cannot reach it); Profile::internal is reserved for the OCSP signer.
Profile OperatorProfile(const CaConfig& config) {
  Profile p;
  p.name = "operator";
  p.days = std::min<uint32_t>(config.issuing_days, 365);
  p.key_usage = {"digitalSignature"};
  p.extended_key_usage = {"clientAuth"};
  p.revocation_pointers = true;
  return p;
}

}  // namespace

Result<std::pair<std::string, Bytes>> CaInstance::IssueOperatorCert(const std::string& name,
                                                                    std::span<const uint8_t> csr,
                                                                    const std::string& actor) {
  if (token_ == nullptr) return FailedPreconditionError("the token is not open");
  CV_ASSIGN_OR_RETURN(ParsedCsr parsed, ParseCsr(csr, config_.max_csr_bytes));
  std::string alg = parsed.content.key_algorithm;
  if (alg != "ec-p256" && alg != "ec-p384" && alg != "rsa-2048" && alg != "rsa-3072" && alg != "rsa-4096") {
    return PermissionDeniedError("operator key algorithm " + alg + " is not accepted");
  }
  CV_ASSIGN_OR_RETURN(X509 * issuing_cert, Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * issuing_key, Key(CaRole::kIssuing));
  Profile p = OperatorProfile(config_);
  CV_ASSIGN_OR_RETURN(CertTemplate tmpl, CertTemplate::Create(p, config_, issuing_cert));
  std::vector<SubjectEntry> subject{{"CN", name}, {"OU", "certvault-ca operators"}};
  CV_ASSIGN_OR_RETURN(Serial serial, NewSerial());
  CertRequest req{subject, {}, parsed.public_key.get(), parsed.spki, serial, std::time(nullptr)};
  CV_ASSIGN_OR_RETURN(BuiltCert built, BuildCertificate(tmpl, req, *issuing_key, true));
  CV_RETURN_IF_ERROR(StoreCaCert(CaRole::kIssuing, built.der, SubjectText(subject), p.name, actor));
  const uint8_t* in = built.der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&in, static_cast<long>(built.der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return InternalError("operator certificate does not parse");
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (bn == nullptr) return InternalError("operator certificate serial");
  Bytes raw(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), raw.data());
  return std::make_pair(HexEncode(raw), std::move(built.der));
}

}  // namespace certvault::ca
