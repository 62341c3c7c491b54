// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EnrollCodes: one-time enrollment passwords for EST first enrollment with
// HTTP Basic (RFC 7030 §3.2.3). `certvault-ca enroll-code` creates one: an
// id (the Basic user name) and a 128-bit random password, shown once. The
// file DIR/enroll-codes keeps, per code, one line
//   <id> <profile> <expires-epoch> <used-epoch|0> <salt-hex> <sha256-hex> <secret-hex|->
// where sha256 = SHA-256(salt || password): the password is not stored
// ("-"), except for a code made for CMP (`enroll-code --cmp`): a
// password-based MAC (RFC 4210 §5.1.3.1) can only be verified with the
// secret itself, so that code keeps its password (hex) until it is used
// or expires (docs/design/enrollment.md, CMP). Lines of the older 6-field
// format read as "-". (A fast hash suffices: the password has 128 bits.) Every
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
  // Create: a new code for `profile`, valid for `lifetime_s` seconds from
  // `now`; `keep_secret` keeps the password for CMP MAC verification.
  Result<NewCode> Create(const std::string& profile, int64_t lifetime_s, int64_t now, bool keep_secret = false);
  // MacSecret: the password of a code made with keep_secret (used or not:
  // Redeem decides), for verifying a CMP PBM. kNotFound otherwise.
  Result<SecretBytes> MacSecret(const std::string& id);
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
