// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/p11/ca_key.h"

#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>

#include "ca/p11/public_key.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

// CKA_CV_QUORUM_OP: certvault's vendor attribute (src/model/vendor_attributes.h;
// the CA talks to any PKCS#11 module, so it does not include the vault's model).
constexpr CK_ATTRIBUTE_TYPE kCkaCvQuorumOp = CKA_VENDOR_DEFINED | 0x00435613UL;

constexpr std::array<uint8_t, 10> kP256Oid = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<uint8_t, 7> kP384Oid = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::array<uint8_t, 3> kRsaExponent = {0x01, 0x00, 0x01};

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

struct KeyGenTemplate {
  CK_MECHANISM_TYPE mechanism;
  std::span<const uint8_t> ec_params;
  CK_ULONG modulus_bits;
};

KeyGenTemplate TemplateFor(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::kEcP256: return {CKM_EC_KEY_PAIR_GEN, kP256Oid, 0};
    case KeyAlgorithm::kEcP384: return {CKM_EC_KEY_PAIR_GEN, kP384Oid, 0};
    case KeyAlgorithm::kRsa2048: return {CKM_RSA_PKCS_KEY_PAIR_GEN, {}, 2048};
    case KeyAlgorithm::kRsa3072: return {CKM_RSA_PKCS_KEY_PAIR_GEN, {}, 3072};
    case KeyAlgorithm::kRsa4096: return {CKM_RSA_PKCS_KEY_PAIR_GEN, {}, 4096};
    default: return {CKM_VENDOR_DEFINED, {}, 0};
  }
}

bool IsRsa(x509::SignatureAlgorithm alg) {
  return alg == x509::SignatureAlgorithm::kRsaPkcs1Sha256 || alg == x509::SignatureAlgorithm::kRsaPssSha256;
}

}  // namespace

Result<x509::SignatureAlgorithm> SignatureAlgorithmFor(KeyAlgorithm key, std::string_view name) {
  bool rsa = key != KeyAlgorithm::kEcP256 && key != KeyAlgorithm::kEcP384;
  if (name.empty() || name == "ecdsa" || name == "rsa-pkcs1") {
    if (name == "ecdsa" && rsa) return InvalidArgumentError("signature_algorithm 'ecdsa' needs an ec-* key_algorithm");
    if (name == "rsa-pkcs1" && !rsa) return InvalidArgumentError("signature_algorithm 'rsa-pkcs1' needs an rsa-* key");
    if (rsa) return x509::SignatureAlgorithm::kRsaPkcs1Sha256;
    return key == KeyAlgorithm::kEcP384 ? x509::SignatureAlgorithm::kEcdsaSha384
                                        : x509::SignatureAlgorithm::kEcdsaSha256;
  }
  if (name == "rsa-pss") {
    if (!rsa) return InvalidArgumentError("signature_algorithm 'rsa-pss' needs an rsa-* key_algorithm");
    return x509::SignatureAlgorithm::kRsaPssSha256;
  }
  return InvalidArgumentError("unknown signature_algorithm '" + std::string(name) + "' (ecdsa, rsa-pkcs1, rsa-pss)");
}

Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name) {
  if (name == "ec-p256") return KeyAlgorithm::kEcP256;
  if (name == "ec-p384") return KeyAlgorithm::kEcP384;
  if (name == "rsa-2048") return KeyAlgorithm::kRsa2048;
  if (name == "rsa-3072") return KeyAlgorithm::kRsa3072;
  if (name == "rsa-4096") return KeyAlgorithm::kRsa4096;
  return InvalidArgumentError("unknown key algorithm '" + std::string(name) +
                              "' (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)");
}

std::string_view KeyAlgorithmName(KeyAlgorithm alg) {
  switch (alg) {
    case KeyAlgorithm::kEcP256: return "ec-p256";
    case KeyAlgorithm::kEcP384: return "ec-p384";
    case KeyAlgorithm::kRsa2048: return "rsa-2048";
    case KeyAlgorithm::kRsa3072: return "rsa-3072";
    case KeyAlgorithm::kRsa4096: return "rsa-4096";
    default: return "unknown";
  }
}

Result<std::unique_ptr<CaToken>> CaToken::Open(const std::string& module_path, std::string_view label,
                                               const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> module, P11Module::Load(module_path));
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenSlot(label));
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE session, module->OpenSession(slot));
  Status login = module->Login(session, pin);
  if (!login.ok()) {
    module->CloseSession(session);
    return login;
  }
  return std::unique_ptr<CaToken>(new CaToken(std::move(module), slot, session, pin.Clone()));
}

CaToken::~CaToken() { module_->CloseSession(login_session_); }

Result<CK_OBJECT_HANDLE> CaToken::FindObject(CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                                             const std::string& label) {
  CK_FUNCTION_LIST* fn = module_->fn();
  std::array<CK_ATTRIBUTE, 2> tmpl = {Attr(CKA_CLASS, &cls, sizeof(cls)), Attr(CKA_LABEL, label.data(), label.size())};
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsInit(session, tmpl.data(), tmpl.size()), "C_FindObjectsInit"));
  std::array<CK_OBJECT_HANDLE, 2> found{};
  CK_ULONG count = 0;
  Status status = CheckRv(fn->C_FindObjects(session, found.data(), found.size(), &count), "C_FindObjects");
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsFinal(session), "C_FindObjectsFinal"));
  CV_RETURN_IF_ERROR(status);
  if (count == 0) return NotFoundError("no key labelled '" + label + "' in the token");
  if (count > 1) return FailedPreconditionError("more than one key labelled '" + label + "' in the token");
  return found[0];
}

Status CaToken::GenerateKeyPair(const std::string& label, KeyAlgorithm alg, const std::string& quorum_op) {
  if (FindObject(login_session_, CKO_PRIVATE_KEY, label).ok()) {
    return AlreadyExistsError("the token already holds a key labelled '" + label + "'");
  }
  KeyGenTemplate t = TemplateFor(alg);
  if (t.mechanism == CKM_VENDOR_DEFINED) return InvalidArgumentError("unknown key algorithm");
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  std::vector<CK_ATTRIBUTE> pub = {Attr(CKA_TOKEN, &yes, 1), Attr(CKA_VERIFY, &yes, 1),
                                   Attr(CKA_LABEL, label.data(), label.size()), Attr(CKA_ID, label.data(), label.size())};
  std::vector<CK_ATTRIBUTE> priv = {Attr(CKA_TOKEN, &yes, 1),       Attr(CKA_SIGN, &yes, 1),
                                    Attr(CKA_PRIVATE, &yes, 1),     Attr(CKA_SENSITIVE, &yes, 1),
                                    Attr(CKA_EXTRACTABLE, &no, 1),  Attr(CKA_DECRYPT, &no, 1),
                                    Attr(CKA_LABEL, label.data(), label.size()),
                                    Attr(CKA_ID, label.data(), label.size())};
  if (!quorum_op.empty()) priv.push_back(Attr(kCkaCvQuorumOp, quorum_op.data(), quorum_op.size()));
  if (t.modulus_bits == 0) {
    pub.push_back(Attr(CKA_EC_PARAMS, t.ec_params.data(), t.ec_params.size()));
  } else {
    pub.push_back(Attr(CKA_MODULUS_BITS, &t.modulus_bits, sizeof(t.modulus_bits)));
    pub.push_back(Attr(CKA_PUBLIC_EXPONENT, kRsaExponent.data(), kRsaExponent.size()));
  }
  CK_MECHANISM mech{t.mechanism, nullptr, 0};
  CK_OBJECT_HANDLE pub_h = CK_INVALID_HANDLE, priv_h = CK_INVALID_HANDLE;
  return CheckRv(module_->fn()->C_GenerateKeyPair(login_session_, &mech, pub.data(), pub.size(), priv.data(),
                                                  priv.size(), &pub_h, &priv_h),
                 "C_GenerateKeyPair");
}

Result<std::unique_ptr<CaKey>> CaToken::OpenKey(const std::string& label) {
  CV_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE priv, FindObject(login_session_, CKO_PRIVATE_KEY, label));
  CV_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE pub, FindObject(login_session_, CKO_PUBLIC_KEY, label));
  std::unique_ptr<CaKey> key(new CaKey(this, priv));
  CV_ASSIGN_OR_RETURN(key->always_authenticate_, module_->AlwaysAuthenticate(login_session_, priv));
  CV_ASSIGN_OR_RETURN(key->pkey_, ReadPublicKey(module_->fn(), login_session_, pub));
  CV_ASSIGN_OR_RETURN(key->spki_, EncodePublicKeyInfo(key->pkey_.get()));
  CV_ASSIGN_OR_RETURN(key->algorithm_, x509::DefaultSignatureAlgorithm(key->pkey_.get()));
  return key;
}

CaKey::~CaKey() {
  for (CK_SESSION_HANDLE s : all_sessions_) token_->module_->CloseSession(s);
}

Result<CK_SESSION_HANDLE> CaKey::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_sessions_.empty()) {
      CK_SESSION_HANDLE s = free_sessions_.back();
      free_sessions_.pop_back();
      return s;
    }
  }
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE s, token_->module_->OpenSession(token_->slot_));
  std::lock_guard<std::mutex> lock(mu_);
  all_sessions_.push_back(s);
  return s;
}

void CaKey::Discard(CK_SESSION_HANDLE session) {
  token_->module_->CloseSession(session);
  std::lock_guard<std::mutex> lock(mu_);
  std::erase(all_sessions_, session);
}

Status CaKey::ContextLogin(CK_SESSION_HANDLE session) const {
  std::span<const uint8_t> pin = token_->pin_.Bytes(SecretAccess::Get());
  return CheckRv(token_->module_->fn()->C_Login(session, CKU_CONTEXT_SPECIFIC, const_cast<CK_UTF8CHAR_PTR>(pin.data()),
                                                pin.size()),
                 "C_Login(CKU_CONTEXT_SPECIFIC)");
}

void CaKey::Release(CK_SESSION_HANDLE session) {
  std::lock_guard<std::mutex> lock(mu_);
  free_sessions_.push_back(session);
}

Result<Bytes> CaKey::Digest(std::span<const uint8_t> tbs) const {
  const EVP_MD* md = crypto::DigestByNid(algorithm_ == x509::SignatureAlgorithm::kEcdsaSha384 ? NID_sha384 : NID_sha256);
  if (md == nullptr) return ossl::OpenSslError("EVP_MD_fetch");
  Bytes digest(static_cast<size_t>(EVP_MD_get_size(md)));
  if (EVP_Digest(tbs.data(), tbs.size(), digest.data(), nullptr, md, nullptr) != 1) {
    return ossl::OpenSslError("EVP_Digest");
  }
  return digest;
}

Status CaKey::Verify(std::span<const uint8_t> tbs, std::span<const uint8_t> raw_sig) {
  CV_ASSIGN_OR_RETURN(Bytes digest, Digest(tbs));
  return VerifyDigest(digest, raw_sig);
}

Status CaKey::UseSignatureAlgorithm(x509::SignatureAlgorithm alg) {
  CV_ASSIGN_OR_RETURN(x509::SignatureAlgorithm def, x509::DefaultSignatureAlgorithm(pkey_.get()));
  if (alg != def && !(IsRsa(def) && IsRsa(alg))) {
    return Status(Reason::kKeyTypeInconsistent, "the CA key cannot sign with the configured signature_algorithm");
  }
  std::lock_guard<std::mutex> lock(mu_);
  algorithm_ = alg;
  verify_ctxs_.clear();  // set up for the previous padding
  return OkStatus();
}

// InitVerify: a verify context for the key's algorithm (RSA: padding and
// digest; PSS: RFC 4055 parameters as in TokenSign).
Status CaKey::InitVerify(EVP_PKEY_CTX* ctx) const {
  const EVP_MD* md = crypto::DigestByNid(algorithm_ == x509::SignatureAlgorithm::kEcdsaSha384 ? NID_sha384 : NID_sha256);
  if (md == nullptr || ctx == nullptr || EVP_PKEY_verify_init(ctx) != 1) return ossl::OpenSslError("EVP_PKEY_verify_init");
  if (algorithm_ == x509::SignatureAlgorithm::kRsaPkcs1Sha256 &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_padding");
  }
  if (algorithm_ == x509::SignatureAlgorithm::kRsaPssSha256 &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1 || EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) != 1)) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_rsa_padding(PSS)");
  }
  return OkStatus();
}

Status CaKey::VerifyDigest(std::span<const uint8_t> digest, std::span<const uint8_t> raw_sig) {
  bool rsa = IsRsa(algorithm_);
  Bytes sig(raw_sig.begin(), raw_sig.end());
  if (!rsa) {
    CV_ASSIGN_OR_RETURN(sig, x509::RawEcdsaToDer(raw_sig));
  }
  ossl::UniquePtr<EVP_PKEY_CTX> ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!verify_ctxs_.empty()) {
      ctx = std::move(verify_ctxs_.back());
      verify_ctxs_.pop_back();
    }
  }
  if (ctx == nullptr) {
    ctx.reset(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), pkey_.get(), crypto::kPropq));
    CV_RETURN_IF_ERROR(InitVerify(ctx.get()));
  }
  int ok = EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest.data(), digest.size());
  ossl::ClearErrors();
  {
    std::lock_guard<std::mutex> lock(mu_);
    verify_ctxs_.push_back(std::move(ctx));
  }
  if (ok != 1) return Status(Reason::kSignatureInvalid, "the token's signature does not verify with the CA public key");
  return OkStatus();
}

Result<Bytes> CaKey::TokenSign(CK_MECHANISM_TYPE mech_type, std::span<const uint8_t> input) {
  // kRsaPssSha256 (RFC 4055 §3.1 as x509_build encodes it): SHA-256, MGF1
  // with SHA-256, a salt as long as the hash.
  CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
  CK_MECHANISM mech{mech_type, nullptr, 0};
  if (mech_type == CKM_SHA256_RSA_PKCS_PSS) mech = CK_MECHANISM{mech_type, &pss, sizeof(pss)};
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE session, Acquire());
  CK_FUNCTION_LIST* fn = token_->module_->fn();
  Bytes sig(1024);
  CK_ULONG len = sig.size();
  Status status = CheckRv(fn->C_SignInit(session, &mech, key_), "C_SignInit");
  if (status.ok() && always_authenticate_) {
    status = ContextLogin(session);
    if (!status.ok()) {
      // The signature operation stays active after a failed login: this
      // session cannot go back to the pool.
      Discard(session);
      return status;
    }
  }
  if (status.ok()) {
    status = CheckRv(fn->C_Sign(session, const_cast<uint8_t*>(input.data()), input.size(), sig.data(), &len), "C_Sign");
  }
  Release(session);
  CV_RETURN_IF_ERROR(status);
  sig.resize(len);
  return sig;
}

Result<Bytes> CaKey::Sign(std::span<const uint8_t> tbs) {
  switch (algorithm_) {
    case x509::SignatureAlgorithm::kEcdsaSha256:
    case x509::SignatureAlgorithm::kEcdsaSha384: {
      CV_ASSIGN_OR_RETURN(Bytes digest, Digest(tbs));
      return TokenSign(CKM_ECDSA, digest);
    }
    case x509::SignatureAlgorithm::kRsaPkcs1Sha256:
      return TokenSign(CKM_SHA256_RSA_PKCS, tbs);
    case x509::SignatureAlgorithm::kRsaPssSha256:
      return TokenSign(CKM_SHA256_RSA_PKCS_PSS, tbs);
    default:
      return Status(Reason::kMechanismInvalid, "CA key algorithm cannot sign");
  }
}

Result<Bytes> CaKey::SignVerified(std::span<const uint8_t> tbs) {
  CV_ASSIGN_OR_RETURN(Bytes digest, Digest(tbs));
  Bytes sig;
  if (IsRsa(algorithm_)) {
    CV_ASSIGN_OR_RETURN(sig, Sign(tbs));
  } else {
    CV_ASSIGN_OR_RETURN(sig, TokenSign(CKM_ECDSA, digest));
  }
  CV_RETURN_IF_ERROR(VerifyDigest(digest, sig));
  return sig;
}

}  // namespace certvault::ca
