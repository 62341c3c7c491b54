// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/crl/crl_builder.h"

#include <array>

#include "ca/der/der_writer.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

// id-ce-cRLReasons (2.5.29.21) and id-ce-invalidityDate (2.5.29.24).
constexpr std::array<uint8_t, 5> kReasonOid = {0x06, 0x03, 0x55, 0x1d, 0x15};
constexpr std::array<uint8_t, 5> kInvalidityOid = {0x06, 0x03, 0x55, 0x1d, 0x18};

// AppendEntry: RFC 5280 §5.1.2.6 revokedCertificates entry, written in place
// (no allocation). reasonCode is omitted for unspecified (§5.3.1: "the reason
// code extension SHOULD be absent instead of using the unspecified (0)
// reasonCode value"); invalidityDate is a GeneralizedTime (§5.3.2).
// TimeCache: the last encoded revocationDate (bulk revocations share seconds).
struct TimeCache {
  time_t t = -1;
  Bytes der;
};

const Bytes& EncodedTime(time_t t, TimeCache& cache) {
  if (cache.t != t) {
    cache.der.clear();
    der::AppendTime(cache.der, t);
    cache.t = t;
  }
  return cache.der;
}

void AppendEntry(Bytes& out, const RevokedEntry& e, TimeCache& cache) {
  std::span<const uint8_t> serial(e.serial.data(), e.serial_len);
  size_t start = 0;
  while (start + 1 < serial.size() && serial[start] == 0) ++start;
  serial = serial.subspan(start);
  size_t int_len = serial.size() + ((serial[0] & 0x80) ? 1 : 0);
  const Bytes& time_der = EncodedTime(static_cast<time_t>(e.revoked_at), cache);
  size_t time_len = time_der.size() - 2;
  size_t reason_len = e.reason != 0 ? 2 + kReasonOid.size() + 5 : 0;
  size_t inval_len = e.invalidity_date != 0 ? 2 + kInvalidityOid.size() + 2 + 17 : 0;
  size_t exts_len = reason_len + inval_len;
  size_t content =
      der::HeaderSize(int_len) + int_len + 2 + time_len + (exts_len ? der::HeaderSize(exts_len) + exts_len : 0);
  der::AppendHeader(out, der::kSequence, content);
  der::AppendUnsignedInteger(out, serial);
  out.insert(out.end(), time_der.begin(), time_der.end());
  if (exts_len == 0) return;
  der::AppendHeader(out, der::kSequence, exts_len);
  if (reason_len != 0) {
    uint8_t value[5] = {der::kOctetString, 3, der::kEnumerated, 1, static_cast<uint8_t>(e.reason)};
    der::AppendHeader(out, der::kSequence, kReasonOid.size() + sizeof(value));
    out.insert(out.end(), kReasonOid.begin(), kReasonOid.end());
    out.insert(out.end(), value, value + sizeof(value));
  }
  if (inval_len != 0) {
    der::AppendHeader(out, der::kSequence, kInvalidityOid.size() + 2 + 17);
    out.insert(out.end(), kInvalidityOid.begin(), kInvalidityOid.end());
    der::AppendHeader(out, der::kOctetString, 17);
    der::AppendGeneralizedTime(out, static_cast<time_t>(e.invalidity_date));
  }
}

Result<Bytes> ExtensionDer(X509_EXTENSION* ext) {
  if (ext == nullptr) return ossl::OpenSslError("X509V3_EXT");
  ossl::UniquePtr<X509_EXTENSION> owned(ext);
  return ossl::ToDer<X509_EXTENSION, i2d_X509_EXTENSION>(ext, "i2d_X509_EXTENSION");
}

Result<Bytes> IntegerExtension(int nid, int64_t value, int critical) {
  ossl::UniquePtr<ASN1_STRING> n(ASN1_INTEGER_new());
  if (n == nullptr || ASN1_INTEGER_set_int64(n.get(), value) != 1) return ossl::OpenSslError("ASN1_INTEGER_set_int64");
  return ExtensionDer(X509V3_EXT_i2d(nid, critical, n.get()));
}

// CrlExtensions: [0] EXPLICIT Extensions: AKI, cRLNumber (§5.2.3), the
// critical deltaCRLIndicator (§5.2.4) and issuingDistributionPoint (§5.2.5).
Result<Bytes> CrlExtensions(const CrlSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, spec.issuer, nullptr, nullptr, nullptr, 0);
  Bytes exts;
  CV_ASSIGN_OR_RETURN(Bytes aki,
                      ExtensionDer(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always")));
  exts.insert(exts.end(), aki.begin(), aki.end());
  CV_ASSIGN_OR_RETURN(Bytes number, IntegerExtension(NID_crl_number, spec.number, 0));
  exts.insert(exts.end(), number.begin(), number.end());
  if (spec.delta) {
    CV_ASSIGN_OR_RETURN(Bytes base, IntegerExtension(NID_delta_crl, spec.base_number, 1));
    exts.insert(exts.end(), base.begin(), base.end());
  }
  if (!spec.delta && !spec.freshest_crl.empty()) {
    // OpenSSL (and RFC 5280 §5.2.6 clients) look for deltas only when the
    // base CRL or the certificate names them in freshestCRL.
    std::string value = "URI:" + spec.freshest_crl;
    CV_ASSIGN_OR_RETURN(Bytes fresh,
                        ExtensionDer(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_freshest_crl, value.c_str())));
    exts.insert(exts.end(), fresh.begin(), fresh.end());
  }
  if (!spec.distribution_point.empty()) {
    std::string value = "critical,fullname:URI:" + spec.distribution_point;
    CV_ASSIGN_OR_RETURN(
        Bytes idp, ExtensionDer(X509V3_EXT_nconf_nid(nullptr, &ctx, NID_issuing_distribution_point, value.c_str())));
    exts.insert(exts.end(), idp.begin(), idp.end());
  }
  return der::Wrap(der::ContextTag(0, true), der::Wrap(der::kSequence, exts));
}

}  // namespace

Result<Bytes> AlgorithmIdentifierDer(x509::SignatureAlgorithm alg) {
  int nid = NID_undef;
  int ptype = V_ASN1_UNDEF;
  switch (alg) {
    case x509::SignatureAlgorithm::kEcdsaSha256:
      nid = NID_ecdsa_with_SHA256;
      break;
    case x509::SignatureAlgorithm::kEcdsaSha384:
      nid = NID_ecdsa_with_SHA384;
      break;
    case x509::SignatureAlgorithm::kEcdsaSha512:
      nid = NID_ecdsa_with_SHA512;
      break;
    case x509::SignatureAlgorithm::kRsaPkcs1Sha256:
      nid = NID_sha256WithRSAEncryption;
      ptype = V_ASN1_NULL;
      break;
    case x509::SignatureAlgorithm::kRsaPssSha256: {
      std::span<const uint8_t> der = x509::RsaPssSha256AlgorithmIdentifier();
      return Bytes(der.begin(), der.end());
    }
    default:
      return Status(Reason::kMechanismInvalid, "unsupported CA signature algorithm");
  }
  ossl::UniquePtr<X509_ALGOR> algor(X509_ALGOR_new());
  if (algor == nullptr || X509_ALGOR_set0(algor.get(), OBJ_nid2obj(nid), ptype, nullptr) != 1) {
    return ossl::OpenSslError("X509_ALGOR_set0");
  }
  return ossl::ToDer<X509_ALGOR, i2d_X509_ALGOR>(algor.get(), "i2d_X509_ALGOR");
}

Result<Bytes> SignToBitString(std::span<const uint8_t> tbs, CaKey& key) {
  CV_ASSIGN_OR_RETURN(Bytes raw, key.SignVerified(tbs));
  Bytes sig = raw;
  x509::SignatureAlgorithm alg = key.algorithm();
  bool ecdsa = alg == x509::SignatureAlgorithm::kEcdsaSha256 || alg == x509::SignatureAlgorithm::kEcdsaSha384 ||
               alg == x509::SignatureAlgorithm::kEcdsaSha512;
  if (ecdsa) {
    CV_ASSIGN_OR_RETURN(sig, x509::RawEcdsaToDer(raw));
  }
  Bytes bits;
  der::AppendHeader(bits, der::kBitString, sig.size() + 1);
  bits.push_back(0x00);  // no unused bits
  bits.insert(bits.end(), sig.begin(), sig.end());
  return bits;
}

Result<Bytes> BuildCrl(const CrlSpec& spec, CaKey& key) {
  if (spec.issuer == nullptr) return InvalidArgumentError("no issuer certificate");
  CV_ASSIGN_OR_RETURN(Bytes algid, AlgorithmIdentifierDer(key.algorithm()));
  CV_ASSIGN_OR_RETURN(Bytes issuer,
                      (ossl::ToDer<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(spec.issuer), "i2d_X509_NAME")));
  Bytes body;
  body.reserve(64 * spec.entries.size() + 1024);
  der::AppendSmallInteger(body, der::kInteger, 1);  // v2
  body.insert(body.end(), algid.begin(), algid.end());
  body.insert(body.end(), issuer.begin(), issuer.end());
  der::AppendTime(body, spec.this_update);
  der::AppendTime(body, spec.next_update);
  if (!spec.entries.empty()) {
    Bytes list;
    TimeCache cache;
    list.reserve(64 * spec.entries.size());
    for (const RevokedEntry& e : spec.entries) {
      if (e.serial_len == 0 || e.serial_len > e.serial.size())
        return InvalidArgumentError("malformed serial in the revocation list");
      AppendEntry(list, e, cache);
    }
    der::AppendTlv(body, der::kSequence, list);
  }
  CV_ASSIGN_OR_RETURN(Bytes exts, CrlExtensions(spec));
  body.insert(body.end(), exts.begin(), exts.end());
  Bytes tbs = der::Wrap(der::kSequence, body);
  CV_ASSIGN_OR_RETURN(Bytes bits, SignToBitString(tbs, key));
  Bytes outer = std::move(tbs);
  outer.insert(outer.end(), algid.begin(), algid.end());
  outer.insert(outer.end(), bits.begin(), bits.end());
  return der::Wrap(der::kSequence, outer);
}

}  // namespace certvault::ca
