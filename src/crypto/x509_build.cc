// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/crypto/x509_build.h"

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <climits>
#include <string>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::x509 {
namespace {

constexpr size_t kMaxSubjectLength = 4096;
constexpr size_t kMaxSanLength = 1024;

// SigAlgNid: the AlgorithmIdentifier OID. RFC 5758 §3.2 (ECDSA) and RFC 8410
// §3 (EdDSA): "the parameters MUST be absent"; RFC 4055 §5 (RSA): NULL.
int SigAlgNid(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kEcdsaSha256: return NID_ecdsa_with_SHA256;
    case SignatureAlgorithm::kEcdsaSha384: return NID_ecdsa_with_SHA384;
    case SignatureAlgorithm::kEcdsaSha512: return NID_ecdsa_with_SHA512;
    case SignatureAlgorithm::kRsaPkcs1Sha256: return NID_sha256WithRSAEncryption;
    case SignatureAlgorithm::kEd25519: return NID_ED25519;
    case SignatureAlgorithm::kEd448: return NID_ED448;
    case SignatureAlgorithm::kRsaPssSha256: return NID_rsassaPss;
    default: return NID_undef;
  }
}

bool IsEcdsa(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kEcdsaSha256 || alg == SignatureAlgorithm::kEcdsaSha384 ||
         alg == SignatureAlgorithm::kEcdsaSha512;
}

bool IsRsa(SignatureAlgorithm alg) {
  return alg == SignatureAlgorithm::kRsaPkcs1Sha256 || alg == SignatureAlgorithm::kRsaPssSha256;
}

// RFC 4055 §3.1: AlgorithmIdentifier { id-RSASSA-PSS, RSASSA-PSS-params {
// hashAlgorithm [0] sha256 (NULL parameters), maskGenAlgorithm [1] mgf1 with
// sha256, saltLength [2] 32 } } (trailerField: the default, 1).
constexpr uint8_t kRsaPssSha256AlgId[] = {
    0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34, 0xa0, 0x0f,
    0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c,
    0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09,
    0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20};

Status SetPssAlgor(X509_ALGOR* algor) {
  const uint8_t* p = kRsaPssSha256AlgId;
  ossl::UniquePtr<X509_ALGOR> pss(d2i_X509_ALGOR(nullptr, &p, sizeof(kRsaPssSha256AlgId)));
  if (pss == nullptr || algor == nullptr || X509_ALGOR_copy(algor, pss.get()) != 1) {
    return ossl::OpenSslError("X509_ALGOR_copy");
  }
  return OkStatus();
}

// SetAlgor: writes the signature AlgorithmIdentifier into `algor`.
Status SetAlgor(X509_ALGOR* algor, SignatureAlgorithm alg) {
  if (alg == SignatureAlgorithm::kRsaPssSha256) return SetPssAlgor(algor);
  int nid = SigAlgNid(alg);
  if (nid == NID_undef) return Status(Reason::kMechanismInvalid, "unknown signature algorithm");
  int param_type = alg == SignatureAlgorithm::kRsaPkcs1Sha256 ? V_ASN1_NULL : V_ASN1_UNDEF;
  if (algor == nullptr || X509_ALGOR_set0(algor, OBJ_nid2obj(nid), param_type, nullptr) != 1) {
    return ossl::OpenSslError("X509_ALGOR_set0");
  }
  return OkStatus();
}

// SetSignatureBits: the BIT STRING holds the signature with 0 unused bits.
Status SetSignatureBits(ASN1_BIT_STRING* bits, std::span<const uint8_t> sig) {
  if (sig.empty() || sig.size() > INT_MAX) return Status(Reason::kSignatureLenRange, "signer returned no signature");
  if (bits == nullptr || ASN1_BIT_STRING_set(bits, const_cast<uint8_t*>(sig.data()), static_cast<int>(sig.size())) != 1) {
    return ossl::OpenSslError("ASN1_BIT_STRING_set");
  }
  // Without BITS_LEFT the encoder drops trailing zero bits of the last byte.
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return OkStatus();
}

// CallSigner: runs the signer and converts ECDSA r||s to DER.
Result<Bytes> CallSigner(const Signer& signer, SignatureAlgorithm alg, std::span<const uint8_t> tbs) {
  if (!signer) return InvalidArgumentError("no signer");
  CV_ASSIGN_OR_RETURN(Bytes sig, signer(tbs));
  if (IsEcdsa(alg)) return RawEcdsaToDer(sig);
  return sig;
}

Status CheckKeyMatchesAlgorithm(const EVP_PKEY* key, SignatureAlgorithm alg) {
  CV_ASSIGN_OR_RETURN(SignatureAlgorithm def, DefaultSignatureAlgorithm(key));
  bool ok = IsEcdsa(def) ? IsEcdsa(alg) : IsRsa(def) ? IsRsa(alg) : def == alg;
  if (!ok) return Status(Reason::kKeyTypeInconsistent, "signature algorithm does not match the key type");
  return OkStatus();
}

Result<ossl::UniquePtr<GENERAL_NAME>> MakeGeneralName(const SanEntry& san) {
  ossl::UniquePtr<GENERAL_NAME> gen(GENERAL_NAME_new());
  if (gen == nullptr) return ossl::OpenSslError("GENERAL_NAME_new");
  int type = GEN_DNS;
  ossl::UniquePtr<ASN1_STRING> value;
  switch (san.kind) {
    case SanEntry::Kind::kIp: type = GEN_IPADD; value.reset(a2i_IPADDRESS(san.value.c_str())); break;
    case SanEntry::Kind::kDns: type = GEN_DNS; value.reset(ASN1_IA5STRING_new()); break;
    case SanEntry::Kind::kEmail: type = GEN_EMAIL; value.reset(ASN1_IA5STRING_new()); break;
    case SanEntry::Kind::kUri: type = GEN_URI; value.reset(ASN1_IA5STRING_new()); break;
    default: return InvalidArgumentError("unknown subjectAltName kind");
  }
  if (value == nullptr) return InvalidArgumentError("bad subjectAltName value: " + san.value);
  if (type != GEN_IPADD && ASN1_STRING_set(value.get(), san.value.data(), static_cast<int>(san.value.size())) != 1) {
    return ossl::OpenSslError("ASN1_STRING_set");
  }
  GENERAL_NAME_set0_value(gen.get(), type, value.release());  // owned by gen
  return gen;
}

// SanExtension: the subjectAltName extension (non-critical: the subject is set).
Result<ossl::UniquePtr<X509_EXTENSION>> SanExtension(const std::vector<SanEntry>& sans) {
  ossl::UniquePtr<GENERAL_NAMES> names(GENERAL_NAMES_new());
  if (names == nullptr) return ossl::OpenSslError("GENERAL_NAMES_new");
  for (const SanEntry& san : sans) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<GENERAL_NAME> gen, MakeGeneralName(san));
    if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0) return ossl::OpenSslError("sk_GENERAL_NAME_push");
    gen.release();  // owned by names
  }
  ossl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  if (ext == nullptr) return ossl::OpenSslError("X509V3_EXT_i2d");
  return ext;
}

Result<ossl::UniquePtr<X509_EXTENSION>> ConfExtension(X509V3_CTX* ctx, int nid, const std::string& value) {
  ossl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str()));
  if (ext == nullptr) return ossl::OpenSslError("X509V3_EXT_nconf_nid", Reason::kArgumentsBad);
  return ext;
}

Status AddCertExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext, ConfExtension(ctx, nid, value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  return OkStatus();
}

std::string KeyUsageFor(const CertSpec& spec, const EVP_PKEY* key) {
  if (spec.is_ca) return "critical,digitalSignature,keyCertSign,cRLSign";
  if (EVP_PKEY_is_a(key, "RSA")) return "critical,digitalSignature,keyEncipherment";
  return "critical,digitalSignature";
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

Status AddCertExtensions(X509* cert, X509* issuer, const CertSpec& spec, const EVP_PKEY* key) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  CV_RETURN_IF_ERROR(AddCertExtension(cert, &ctx, NID_basic_constraints, spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  CV_RETURN_IF_ERROR(AddCertExtension(cert, &ctx, NID_key_usage, KeyUsageFor(spec, key)));
  if (!spec.extended_key_usage.empty()) {
    CV_RETURN_IF_ERROR(AddCertExtension(cert, &ctx, NID_ext_key_usage, JoinComma(spec.extended_key_usage)));
  }
  CV_RETURN_IF_ERROR(AddCertExtension(cert, &ctx, NID_subject_key_identifier, "hash"));
  // For a self-signed certificate the issuer is `cert`, whose SKI now exists.
  CV_RETURN_IF_ERROR(AddCertExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always"));
  if (!spec.sans.empty()) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext, SanExtension(spec.sans));
    if (X509_add_ext(cert, ext.get(), -1) != 1) return ossl::OpenSslError("X509_add_ext");
  }
  return OkStatus();
}

// SetRandomSerial: RFC 5280 §4.1.2.2: positive, at most 20 octets. 159 random
// bits (top bit clear) keep the DER INTEGER within 20 octets.
Status SetRandomSerial(X509* cert) {
  uint8_t buf[20];
  if (RAND_bytes_ex(crypto::LibCtx(), buf, sizeof(buf), 0) != 1) return ossl::OpenSslError("RAND_bytes_ex");
  buf[0] &= 0x7f;
  buf[0] |= 0x01;  // a non-zero first octet: always exactly 20 octets, never zero
  ossl::UniquePtr<BIGNUM> bn(BN_bin2bn(buf, sizeof(buf), nullptr));
  if (bn == nullptr) return ossl::OpenSslError("BN_bin2bn");
  if (BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return ossl::OpenSslError("BN_to_ASN1_INTEGER");
  }
  return OkStatus();
}

Status SetValidity(X509* cert, uint32_t days) {
  if (days < 1 || days > 36500) return InvalidArgumentError("validity must be 1..36500 days");
  if (X509_gmtime_adj(X509_getm_notBefore(cert), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), static_cast<int>(days), 0, nullptr) == nullptr) {
    return ossl::OpenSslError("X509_time_adj_ex");
  }
  return OkStatus();
}

Result<ossl::UniquePtr<X509>> ParseCert(std::span<const uint8_t> der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "malformed certificate DER");
  }
  return cert;
}

template <typename T, int (*I2d)(const T*, unsigned char**)>
Result<Bytes> ToDer(const T* obj, std::string_view fn) {
  int len = I2d(obj, nullptr);
  if (len <= 0) return ossl::OpenSslError(fn);
  Bytes out(static_cast<size_t>(len));
  uint8_t* p = out.data();
  if (I2d(obj, &p) != len) return ossl::OpenSslError(fn);
  return out;
}

int I2dReTbs(const X509* cert, unsigned char** pp) { return i2d_re_X509_tbs(const_cast<X509*>(cert), pp); }
int I2dReReqTbs(const X509_REQ* req, unsigned char** pp) { return i2d_re_X509_REQ_tbs(const_cast<X509_REQ*>(req), pp); }

// SignCert: the TBS gets its AlgorithmIdentifier, is signed, and the outer
// signatureAlgorithm + signatureValue are filled in.
Status SignCert(X509* cert, SignatureAlgorithm alg, const Signer& signer) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* outer = nullptr;
  X509_get0_signature(&sig, &outer, cert);
  // OpenSSL 3.0 has no setter for these fields; the pointers point into `cert`,
  // which we own and may modify, so casting away const is sound here.
  CV_RETURN_IF_ERROR(SetAlgor(const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(cert)), alg));
  CV_RETURN_IF_ERROR(SetAlgor(const_cast<X509_ALGOR*>(outer), alg));
  CV_ASSIGN_OR_RETURN(Bytes tbs, (ToDer<X509, I2dReTbs>(cert, "i2d_re_X509_tbs")));
  CV_ASSIGN_OR_RETURN(Bytes signature, CallSigner(signer, alg, tbs));
  return SetSignatureBits(const_cast<ASN1_BIT_STRING*>(sig), signature);
}

Status SignReq(X509_REQ* req, SignatureAlgorithm alg, const Signer& signer) {
  const ASN1_BIT_STRING* sig = nullptr;
  const X509_ALGOR* algor = nullptr;
  X509_REQ_get0_signature(req, &sig, &algor);
  // As in SignCert: the fields belong to `req`, which we own.
  CV_RETURN_IF_ERROR(SetAlgor(const_cast<X509_ALGOR*>(algor), alg));
  CV_ASSIGN_OR_RETURN(Bytes tbs, (ToDer<X509_REQ, I2dReReqTbs>(req, "i2d_re_X509_REQ_tbs")));
  CV_ASSIGN_OR_RETURN(Bytes signature, CallSigner(signer, alg, tbs));
  return SetSignatureBits(const_cast<ASN1_BIT_STRING*>(sig), signature);
}

// VerifiedCertDer: re-parses the encoding (no cached state) and verifies it.
Result<Bytes> VerifiedCertDer(const X509* cert, EVP_PKEY* issuer_key) {
  CV_ASSIGN_OR_RETURN(Bytes der, (ToDer<X509, i2d_X509>(cert, "i2d_X509")));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> parsed, ParseCert(der));
  if (X509_verify(parsed.get(), issuer_key) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kSignatureInvalid, "the vault's signature does not verify with the public key");
  }
  return der;
}

Result<Bytes> VerifiedReqDer(const X509_REQ* req, EVP_PKEY* key) {
  CV_ASSIGN_OR_RETURN(Bytes der, (ToDer<X509_REQ, i2d_X509_REQ>(req, "i2d_X509_REQ")));
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509_REQ> parsed(crypto::D2iX509Req(&p, static_cast<long>(der.size())));  // NOLINT
  if (parsed == nullptr || X509_REQ_verify_ex(parsed.get(), key, crypto::LibCtx(), crypto::kPropq) != 1) {
    ossl::ClearErrors();
    return Status(Reason::kSignatureInvalid, "the vault's signature does not verify with the public key");
  }
  return der;
}

Status SetNames(X509* cert, X509* issuer, const std::string& subject) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_NAME> name, ParseSubject(subject));
  if (X509_set_subject_name(cert, name.get()) != 1) return ossl::OpenSslError("X509_set_subject_name");
  const X509_NAME* issuer_name = issuer != nullptr ? X509_get_subject_name(issuer) : name.get();
  if (X509_set_issuer_name(cert, issuer_name) != 1) return ossl::OpenSslError("X509_set_issuer_name");
  return OkStatus();
}

}  // namespace

std::span<const uint8_t> RsaPssSha256AlgorithmIdentifier() { return kRsaPssSha256AlgId; }

Result<SignatureAlgorithm> DefaultSignatureAlgorithm(const EVP_PKEY* key) {
  if (key == nullptr) return InvalidArgumentError("no key");
  if (EVP_PKEY_is_a(key, "RSA")) return SignatureAlgorithm::kRsaPkcs1Sha256;
  if (EVP_PKEY_is_a(key, "ED25519")) return SignatureAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(key, "ED448")) return SignatureAlgorithm::kEd448;
  if (EVP_PKEY_is_a(key, "EC")) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits <= 256) return SignatureAlgorithm::kEcdsaSha256;
    if (bits <= 384) return SignatureAlgorithm::kEcdsaSha384;
    return SignatureAlgorithm::kEcdsaSha512;
  }
  return Status(Reason::kKeyTypeInconsistent, "key type cannot sign certificates");
}

Result<ossl::UniquePtr<EVP_PKEY>> ParsePublicKeyInfo(std::span<const uint8_t> spki) {
  const uint8_t* p = spki.data();
  ossl::UniquePtr<EVP_PKEY> key(crypto::D2iPubkey(&p, static_cast<long>(spki.size())));  // NOLINT(runtime/int)
  if (key == nullptr || p != spki.data() + spki.size()) {
    ossl::ClearErrors();
    return Status(Reason::kAttributeValueInvalid, "malformed SubjectPublicKeyInfo");
  }
  return key;
}

// SplitSubject splits on unescaped '/', then each part on the first '='.
Result<std::vector<SubjectPart>> SplitSubject(std::string_view subject) {
  if (subject.size() < 2 || subject.size() > kMaxSubjectLength || subject[0] != '/') {
    return InvalidArgumentError("subject must look like /CN=name/O=org");
  }
  std::vector<SubjectPart> out;
  std::string part;
  for (size_t i = 1; i <= subject.size(); ++i) {
    if (i < subject.size() && subject[i] == '\\' && i + 1 < subject.size()) {
      part += subject[++i];
      continue;
    }
    if (i < subject.size() && subject[i] != '/') {
      part += subject[i];
      continue;
    }
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == part.size()) {
      return InvalidArgumentError("subject component must be NAME=value");
    }
    out.push_back({part.substr(0, eq), part.substr(eq + 1)});
    part.clear();
  }
  return out;
}

Result<ossl::UniquePtr<X509_NAME>> ParseSubject(std::string_view subject) {
  CV_ASSIGN_OR_RETURN(std::vector<SubjectPart> parts, SplitSubject(subject));
  ossl::UniquePtr<X509_NAME> name(X509_NAME_new());
  if (name == nullptr) return ossl::OpenSslError("X509_NAME_new");
  for (const SubjectPart& p : parts) {
    const auto* value = reinterpret_cast<const unsigned char*>(p.value.c_str());
    if (X509_NAME_add_entry_by_txt(name.get(), p.field.c_str(), MBSTRING_UTF8, value, -1, -1, 0) != 1) {
      ossl::ClearErrors();
      return InvalidArgumentError("unknown or invalid subject attribute '" + p.field + "'");
    }
  }
  return name;
}

Result<SanEntry> ParseSan(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 == text.size() || text.size() > kMaxSanLength) {
    return InvalidArgumentError("subjectAltName must be DNS:, IP:, email: or URI: followed by a value");
  }
  std::string_view prefix = text.substr(0, colon);
  SanEntry san;
  san.value = std::string(text.substr(colon + 1));
  if (san.value.find('\0') != std::string::npos) return InvalidArgumentError("NUL in subjectAltName");
  if (prefix == "DNS") {
    san.kind = SanEntry::Kind::kDns;
  } else if (prefix == "IP") {
    san.kind = SanEntry::Kind::kIp;
    ossl::UniquePtr<ASN1_STRING> ip(a2i_IPADDRESS(san.value.c_str()));
    ossl::ClearErrors();
    if (ip == nullptr) return InvalidArgumentError("bad IP address in subjectAltName: " + san.value);
  } else if (prefix == "email") {
    san.kind = SanEntry::Kind::kEmail;
  } else if (prefix == "URI") {
    san.kind = SanEntry::Kind::kUri;
  } else {
    return InvalidArgumentError("unknown subjectAltName type '" + std::string(prefix) + "'");
  }
  return san;
}

Result<Bytes> BuildCsr(const CsrSpec& spec, const Signer& signer) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, ParsePublicKeyInfo(spec.public_key_info));
  CV_RETURN_IF_ERROR(CheckKeyMatchesAlgorithm(key.get(), spec.algorithm));
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_NAME> name, ParseSubject(spec.subject));
  ossl::UniquePtr<X509_REQ> req(X509_REQ_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 || X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return ossl::OpenSslError("X509_REQ_set_*");
  }
  if (!spec.sans.empty()) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_EXTENSION> ext, SanExtension(spec.sans));
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    bool ok = exts != nullptr && sk_X509_EXTENSION_push(exts, ext.get()) > 0 &&
              X509_REQ_add_extensions(req.get(), exts) == 1;
    sk_X509_EXTENSION_free(exts);  // the stack only borrowed ext; add_extensions copied it
    if (!ok) return ossl::OpenSslError("X509_REQ_add_extensions");
  }
  for (const auto& [oid_text, value] : spec.attributes) {
    ossl::UniquePtr<ASN1_OBJECT> oid(OBJ_txt2obj(oid_text.c_str(), 1));
    if (oid == nullptr || value.empty() || value[0] != 0x30 ||
        X509_REQ_add1_attr_by_OBJ(req.get(), oid.get(), V_ASN1_SEQUENCE, value.data(), static_cast<int>(value.size())) != 1) {
      return ossl::OpenSslError("X509_REQ_add1_attr_by_OBJ", Reason::kArgumentsBad);
    }
  }
  CV_RETURN_IF_ERROR(SignReq(req.get(), spec.algorithm, signer));
  return VerifiedReqDer(req.get(), key.get());
}

Result<Bytes> BuildCertificate(const CertSpec& spec, const Signer& signer) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> key, ParsePublicKeyInfo(spec.public_key_info));
  ossl::UniquePtr<X509> issuer;
  if (!spec.issuer_cert_der.empty()) {
    CV_ASSIGN_OR_RETURN(issuer, ParseCert(spec.issuer_cert_der));
  }
  EVP_PKEY* signing_key = issuer != nullptr ? X509_get0_pubkey(issuer.get()) : key.get();
  if (signing_key == nullptr) return Status(Reason::kDataInvalid, "issuer certificate has no usable key");
  CV_RETURN_IF_ERROR(CheckKeyMatchesAlgorithm(signing_key, spec.algorithm));
  ossl::UniquePtr<X509> cert(X509_new_ex(crypto::LibCtx(), crypto::kPropq));
  if (cert == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return ossl::OpenSslError("X509_set_*");
  }
  CV_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  CV_RETURN_IF_ERROR(SetValidity(cert.get(), spec.days));
  CV_RETURN_IF_ERROR(SetNames(cert.get(), issuer.get(), spec.subject));
  CV_RETURN_IF_ERROR(AddCertExtensions(cert.get(), issuer.get(), spec, key.get()));
  CV_RETURN_IF_ERROR(SignCert(cert.get(), spec.algorithm, signer));
  return VerifiedCertDer(cert.get(), signing_key);
}

Status SignCertificateTbs(X509* cert, SignatureAlgorithm alg, const Signer& signer) {
  if (cert == nullptr) return InvalidArgumentError("no certificate");
  return SignCert(cert, alg, signer);
}

Result<Bytes> RawEcdsaToDer(std::span<const uint8_t> raw) {
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > 2 * 66) {
    return Status(Reason::kSignatureLenRange, "ECDSA signature must be r||s of equal halves");
  }
  size_t half = raw.size() / 2;
  ossl::UniquePtr<BIGNUM> r(BN_bin2bn(raw.data(), static_cast<int>(half), nullptr));
  ossl::UniquePtr<BIGNUM> s(BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  ossl::UniquePtr<ECDSA_SIG> sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr) return ossl::OpenSslError("BN_bin2bn");
  if (ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return ossl::OpenSslError("ECDSA_SIG_set0");
  r.release();  // owned by sig
  s.release();  // owned by sig
  return ToDer<ECDSA_SIG, i2d_ECDSA_SIG>(sig.get(), "i2d_ECDSA_SIG");
}

Result<std::string> PemEncode(std::string_view label, std::span<const uint8_t> der) {
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  std::string name(label);
  if (bio == nullptr || PEM_write_bio(bio.get(), name.c_str(), "", der.data(), static_cast<long>(der.size())) <= 0) {  // NOLINT
    return ossl::OpenSslError("PEM_write_bio");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  if (len <= 0 || data == nullptr) return ossl::OpenSslError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace certvault::x509
