// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provision/wrapped_key.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/cms_util.h"

namespace certvault::provision::internal {
namespace {

constexpr size_t kKekSize = 32;

// Kek: the X9.63 SHA-256 KDF of the ECDH secret between `priv` and `peer`.
Result<SecretBytes> Kek(EVP_PKEY* priv, EVP_PKEY* peer) {
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(crypto::LibCtx(), priv, crypto::kPropq));
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) <= 0 || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 1) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_derive_init", Reason::kDataInvalid);
  }
  char kdf[] = OSSL_KDF_NAME_X963KDF;
  char md[] = "SHA256";
  size_t outlen = kKekSize;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_TYPE, kdf, 0),
      OSSL_PARAM_construct_utf8_string(OSSL_EXCHANGE_PARAM_KDF_DIGEST, md, 0),
      OSSL_PARAM_construct_size_t(OSSL_EXCHANGE_PARAM_KDF_OUTLEN, &outlen),
      OSSL_PARAM_construct_octet_string(OSSL_EXCHANGE_PARAM_KDF_UKM, const_cast<char*>(kWrapSharedInfo),
                                        sizeof(kWrapSharedInfo) - 1),
      OSSL_PARAM_construct_end()};
  SecretBytes kek(kKekSize);
  size_t len = kKekSize;
  if (EVP_PKEY_CTX_set_params(ctx.get(), params) <= 0 ||
      EVP_PKEY_derive(ctx.get(), kek.MutableBytes(SecretAccess::Get()).data(), &len) <= 0 || len != kKekSize) {
    return ossl::OpenSslError("EVP_PKEY_derive");
  }
  return kek;
}

// Kwp: RFC 5649 AES-256 key wrap with padding, one direction.
Result<SecretBytes> Kwp(const SecretBytes& kek, std::span<const uint8_t> in, bool wrap) {
  ossl::UniquePtr<EVP_CIPHER> cipher(EVP_CIPHER_fetch(crypto::LibCtx(), "AES-256-WRAP-PAD", crypto::kPropq));
  ossl::UniquePtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || ctx == nullptr ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), kek.Bytes(SecretAccess::Get()).data(), nullptr, wrap ? 1 : 0,
                         nullptr) != 1) {
    return ossl::OpenSslError("EVP_CipherInit_ex2");
  }
  SecretBytes out(in.size() + 16);
  int n = 0;
  if (EVP_CipherUpdate(ctx.get(), out.MutableBytes(SecretAccess::Get()).data(), &n, in.data(),
                       static_cast<int>(in.size())) != 1 || n <= 0) {
    return ossl::OpenSslError(wrap ? "AES key wrap" : "AES key unwrap", Reason::kEncryptedDataInvalid);
  }
  SecretBytes result(static_cast<size_t>(n));
  std::span<const uint8_t> got = out.Bytes(SecretAccess::Get()).first(static_cast<size_t>(n));
  std::copy(got.begin(), got.end(), result.MutableBytes(SecretAccess::Get()).begin());
  return result;
}

}  // namespace

Result<ossl::UniquePtr<CV_WRAPPED_KEY>> WrapForTransport(const SecretBytes& pkcs8, EVP_PKEY* transport) {
  ossl::UniquePtr<EVP_PKEY> eph(EVP_PKEY_Q_keygen(crypto::LibCtx(), crypto::kPropq, "EC", "P-256"));
  if (eph == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  CV_ASSIGN_OR_RETURN(SecretBytes kek, Kek(eph.get(), transport));
  CV_ASSIGN_OR_RETURN(SecretBytes wrapped, Kwp(kek, pkcs8.Bytes(SecretAccess::Get()), true));
  ossl::UniquePtr<CV_WRAPPED_KEY> w(CV_WRAPPED_KEY_new());
  if (w == nullptr || ASN1_INTEGER_set(w->version, 1) != 1 || X509_PUBKEY_set(&w->originator, eph.get()) != 1) {
    return ossl::OpenSslError("CV_WRAPPED_KEY");
  }
  std::span<const uint8_t> wb = wrapped.Bytes(SecretAccess::Get());  // ciphertext: not secret any more
  if (ASN1_OCTET_STRING_set(w->wrapped, wb.data(), static_cast<int>(wb.size())) != 1) {
    return ossl::OpenSslError("ASN1_OCTET_STRING_set");
  }
  return w;
}

Result<SecretBytes> UnwrapWithTransport(const CV_WRAPPED_KEY& wrapped, EVP_PKEY* transport_key) {
  CV_ASSIGN_OR_RETURN(uint64_t version, ToU64(wrapped.version));
  EVP_PKEY* originator = X509_PUBKEY_get0(wrapped.originator);
  if (version != 1 || originator == nullptr || !EVP_PKEY_is_a(originator, "EC")) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "malformed WrappedKey");
  }
  CV_ASSIGN_OR_RETURN(SecretBytes kek, Kek(transport_key, originator));
  return Kwp(kek, std::span<const uint8_t>(wrapped.wrapped->data, static_cast<size_t>(wrapped.wrapped->length)),
             false);
}

}  // namespace certvault::provision::internal
