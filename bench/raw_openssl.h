// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// RawSigner: the "raw OpenSSL" column of the benchmark: what a typical
// application does per signature with the OpenSSL 3.0 EVP API, with a fresh
// context per operation. The work matches the PKCS#11 column for a 32-byte
// message: ECDSA over the message as a digest (EVP_PKEY_sign, like CKM_ECDSA),
// pure Ed25519 (EVP_DigestSign, like CKM_EDDSA), and SHA-256 + PKCS#1 v1.5
// (EVP_DigestSign, like CKM_SHA256_RSA_PKCS). Not thread-safe per instance.
#ifndef CERTVAULT_BENCH_RAW_OPENSSL_H_
#define CERTVAULT_BENCH_RAW_OPENSSL_H_

#include <span>
#include <vector>

#include "bench/p11_loader.h"
#include "src/base/result.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::bench {

class RawSigner {
 public:
  // Create generates a fresh key of `kind` in the default library context.
  static Result<RawSigner> Create(KeyKind kind);
  // SignOnce: one complete signature of `msg` into `out`, context created and
  // freed inside, as an application would.
  Status SignOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const;

 private:
  RawSigner(KeyKind kind, ossl::UniquePtr<EVP_PKEY> key) : kind_(kind), key_(std::move(key)) {}
  Status SignDigestOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const;
  Status DigestSignOnce(std::span<const uint8_t> msg, std::vector<uint8_t>& out) const;

  KeyKind kind_;
  ossl::UniquePtr<EVP_PKEY> key_;
};

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_RAW_OPENSSL_H_
