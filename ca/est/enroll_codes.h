// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EnrollCodes: one-time enrollment passwords for EST first enrollment with
// HTTP Basic (RFC 7030 §3.2.3). `certvault-ca enroll-code` creates one: an
// id (the Basic user name) and a 128-bit random password, shown once. The
// file DIR/enroll-codes keeps, per code, one line
//   <id> <profile> <expires-epoch> <used-epoch|0> <salt-hex> <sha256-hex>
// where sha256 = SHA-256(salt || password): the password is never stored.
// (A fast hash suffices: the password has 128 bits of entropy.) Every
// change rewrites the file atomically (temporary file, fsync, rename) under
// an exclusive flock on DIR/enroll-codes.lock, which also serializes
// Redeem across threads and processes.
#ifndef CERTVAULT_CA_EST_ENROLL_CODES_H_
#define CERTVAULT_CA_EST_ENROLL_CODES_H_

#include <cstdint>
#include <functional>
#include <string>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"

namespace certvault::ca::est {

struct NewCode {
  std::string id;
  SecretBytes password;  // printable (base64url, 22 characters)
  int64_t expires = 0;
};

class EnrollCodes {
 public:
  // EnrollCodes: the store in directory `dir` (the CA instance directory).
  explicit EnrollCodes(std::string dir) : dir_(std::move(dir)) {}
  // Create: a new code for `profile`, valid for `lifetime_s` seconds from `now`.
  Result<NewCode> Create(const std::string& profile, int64_t lifetime_s, int64_t now);
  // Redeem: checks `id`/`password` for `profile` and, if valid, runs `use`
  // (the issuance) while holding the lock. The code is marked used on disk
  // before `use` runs and given back if `use` fails, so a refused CSR does
  // not burn it, and a crash during the issuance leaves it burnt. Errors:
  // kUnauthenticated for an unknown id or a wrong password, kPermissionDenied
  // when the code is used, expired or for another profile; `use`'s error
  // otherwise. The password comparison is constant time.
  Status Redeem(const std::string& id, const SecretBytes& password, const std::string& profile, int64_t now,
                const std::function<Status()>& use);

 private:
  std::string dir_;
};

}  // namespace certvault::ca::est

#endif  // CERTVAULT_CA_EST_ENROLL_CODES_H_
