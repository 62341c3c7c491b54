// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The audit keys of a token (docs/formats/event-log.md, "Audit keys"): an
// Ed25519 key pair made at C_InitToken whose private half is sealed under the
// token key, so that only a process that knows a PIN of the token can sign
// checkpoints. Key n+1 takes over from key n through a rollover record that
// key n signs (C_InitToken again; issue 14's identity key the same way).
#ifndef CERTVAULT_AUDIT_AUDIT_KEY_H_
#define CERTVAULT_AUDIT_AUDIT_KEY_H_

#include <openssl/evp.h>

#include <memory>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/storage/store.h"

namespace certvault::audit {

// AuditSigner: an opened audit key. Sign is thread-safe (one EVP_MD_CTX per call).
class AuditSigner {
 public:
  // Create: a fresh key pair numbered `key_no` of token `token`, sealed under
  // `token_key`; `out_row` receives the row to store (InsertAuditKey).
  static Result<std::unique_ptr<AuditSigner>> Create(storage::TokenId token, uint32_t key_no,
                                                     const SecretBytes& token_key, storage::AuditKeyRow* out_row);
  // Open: unseals `row` with `token_key`. kCorruptStore if the seal does not
  // open (a key replaced or edited in the file, or not this token's key) or
  // the private key does not match the stored public key.
  static Result<std::unique_ptr<AuditSigner>> Open(const storage::AuditKeyRow& row, const SecretBytes& token_key);

  uint32_t key_no() const { return key_no_; }
  Result<Bytes> Sign(std::span<const uint8_t> msg) const;

 private:
  AuditSigner(uint32_t key_no, ossl::UniquePtr<EVP_PKEY> key) : key_no_(key_no), key_(std::move(key)) {}
  uint32_t key_no_;
  ossl::UniquePtr<EVP_PKEY> key_;
};

// AuditVerifier: an audit public key, parsed once. Verify is thread-safe.
class AuditVerifier {
 public:
  // Parse: kCorruptStore if `spki` is not one DER SubjectPublicKeyInfo.
  static Result<AuditVerifier> Parse(std::span<const uint8_t> spki);
  // Verify: true if `sig` is a valid signature of `msg`.
  bool Verify(std::span<const uint8_t> msg, std::span<const uint8_t> sig) const;

 private:
  explicit AuditVerifier(ossl::UniquePtr<EVP_PKEY> key) : key_(std::move(key)) {}
  ossl::UniquePtr<EVP_PKEY> key_;
};

// VerifyAuditSignature: AuditVerifier::Parse(spki) and Verify; false for an
// unparsable key.
bool VerifyAuditSignature(std::span<const uint8_t> spki, std::span<const uint8_t> msg, std::span<const uint8_t> sig);

}  // namespace certvault::audit

#endif  // CERTVAULT_AUDIT_AUDIT_KEY_H_
