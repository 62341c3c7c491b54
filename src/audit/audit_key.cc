// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/audit/audit_key.h"

#include <openssl/x509.h>

#include <chrono>

#include "src/audit/event_chain.h"
#include "src/base/status_macros.h"
#include "src/crypto/aead.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::audit {
namespace {

constexpr size_t kEd25519KeySize = 32;

// SealAad: "certvault audit key v1" | token_id u64 | key_no u32 | SHA-256(spki):
// the sealed private key opens only for this token, number and public key.
Result<Bytes> SealAad(storage::TokenId token, uint32_t key_no, std::span<const uint8_t> spki) {
  Bytes aad = ToBytes("certvault audit key v1");
  for (int i = 7; i >= 0; --i) aad.push_back(static_cast<uint8_t>(token >> (8 * i)));
  for (int i = 3; i >= 0; --i) aad.push_back(static_cast<uint8_t>(key_no >> (8 * i)));
  CV_ASSIGN_OR_RETURN(Bytes digest, Sha256(spki));
  aad.insert(aad.end(), digest.begin(), digest.end());
  return aad;
}

Result<Bytes> PublicDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return ossl::OpenSslError("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Status BadKey(storage::TokenId token, uint32_t key_no, std::string_view why) {
  return Status(Reason::kCorruptStore, "audit key " + std::to_string(key_no) + " of token " + std::to_string(token) +
                                           " failed its check: " + std::string(why));
}

}  // namespace

Result<std::unique_ptr<AuditSigner>> AuditSigner::Create(storage::TokenId token, uint32_t key_no,
                                                         const SecretBytes& token_key, storage::AuditKeyRow* out_row) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(crypto::NewPkeyCtx("ED25519"));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) <= 0 || EVP_PKEY_generate(ctx.get(), &raw) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_generate(ED25519)");
  }
  ossl::UniquePtr<EVP_PKEY> key(raw);
  SecretBytes priv(kEd25519KeySize);
  size_t len = priv.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), priv.MutableBytes(SecretAccess::Get()).data(), &len) != 1 ||
      len != kEd25519KeySize) {
    return ossl::OpenSslError("EVP_PKEY_get_raw_private_key");
  }
  storage::AuditKeyRow row;
  row.token_id = token;
  row.key_no = key_no;
  CV_ASSIGN_OR_RETURN(row.public_key, PublicDer(key.get()));
  CV_ASSIGN_OR_RETURN(Bytes aad, SealAad(token, key_no, row.public_key));
  CV_ASSIGN_OR_RETURN(SecureVector sealed, crypto::AeadSeal(token_key, aad, priv.Bytes(SecretAccess::Get())));
  row.sealed_private.assign(sealed.begin(), sealed.end());
  row.created_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  *out_row = std::move(row);
  return std::unique_ptr<AuditSigner>(new AuditSigner(key_no, std::move(key)));
}

Result<std::unique_ptr<AuditSigner>> AuditSigner::Open(const storage::AuditKeyRow& row, const SecretBytes& token_key) {
  CV_ASSIGN_OR_RETURN(Bytes aad, SealAad(row.token_id, row.key_no, row.public_key));
  Result<SecureVector> priv = crypto::AeadOpen(token_key, aad, row.sealed_private);
  if (!priv.ok()) return BadKey(row.token_id, row.key_no, "its sealed private key does not open with the token key");
  ossl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new_raw_private_key_ex(crypto::LibCtx(), crypto::KeyType("ED25519"),
                                                                crypto::kPropq, priv->data(), priv->size()));
  if (key == nullptr) return BadKey(row.token_id, row.key_no, "its private key does not parse");
  CV_ASSIGN_OR_RETURN(Bytes spki, PublicDer(key.get()));
  if (spki != row.public_key) return BadKey(row.token_id, row.key_no, "its public key is not the private key's");
  return std::unique_ptr<AuditSigner>(new AuditSigner(row.key_no, std::move(key)));
}

Result<Bytes> AuditSigner::Sign(std::span<const uint8_t> msg) const {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, crypto::LibCtx(), crypto::kPropq, key_.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) != 1) {
    return ossl::OpenSslError("EVP_DigestSign(audit key)");
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, msg.data(), msg.size()) != 1) {
    return ossl::OpenSslError("EVP_DigestSign(audit key)");
  }
  sig.resize(len);
  return sig;
}

Result<AuditVerifier> AuditVerifier::Parse(std::span<const uint8_t> spki) {
  const unsigned char* p = spki.data();
  ossl::UniquePtr<EVP_PKEY> key(
      d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(spki.size()), crypto::LibCtx(), crypto::kPropq));
  if (key == nullptr || p != spki.data() + spki.size()) {
    ossl::ClearErrors();
    return Status(Reason::kCorruptStore, "an audit public key does not parse");
  }
  return AuditVerifier(std::move(key));
}

bool AuditVerifier::Verify(std::span<const uint8_t> msg, std::span<const uint8_t> sig) const {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  bool ok = ctx != nullptr &&
            EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, crypto::LibCtx(), crypto::kPropq, key_.get(),
                                    nullptr) == 1 &&
            EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
  ossl::ClearErrors();
  return ok;
}

bool VerifyAuditSignature(std::span<const uint8_t> spki, std::span<const uint8_t> msg, std::span<const uint8_t> sig) {
  Result<AuditVerifier> v = AuditVerifier::Parse(spki);
  return v.ok() && v->Verify(msg, sig);
}

}  // namespace certvault::audit
