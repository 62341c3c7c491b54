// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EnrollCodes: one-time enrollment passwords for EST first enrollment with
// HTTP Basic (RFC 7030 §3.2.3) and for CMP ir with a password-based MAC.
// `certvault-ca enroll-code` creates one: an id (the Basic user name) and a
// 128-bit random password, shown once. The codes live in the CA database
// (table enroll_codes, migration 5), so that every `serve` process on one
// database sees them: per code the profile, expiry, when it was used,
// salt and SHA-256(salt || password); the password itself only for a code
// made for CMP (`enroll-code --cmp`): a password-based MAC (RFC 4210
// §5.1.3.1) can only be verified with the secret, so that code keeps it
// until it expires (docs/design/enrollment.md, CMP). (A fast hash suffices:
// the password has 128 bits.) A code is burnt by one conditional UPDATE
// (CertDb::BurnEnrollCode): of several processes redeeming it at once,
// exactly one issues.
//
// Codes of the former file DIR/enroll-codes (before migration 5) are
// imported on first use and the file is renamed DIR/enroll-codes.imported.
// Thread-safe (one database connection of its own, opened on first use).
#ifndef CERTVAULT_CA_EST_ENROLL_CODES_H_
#define CERTVAULT_CA_EST_ENROLL_CODES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "ca/db/cert_db.h"

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
  // EnrollCodes: the codes of the CA with instance directory `dir` (for the
  // legacy file) and database `database` (a CaConfig::database string).
  EnrollCodes(std::string dir, std::string database) : dir_(std::move(dir)), database_(std::move(database)) {}
  // Create: a new code for `profile`, valid for `lifetime_s` seconds from
  // `now`; `keep_secret` keeps the password for CMP MAC verification.
  // Expired codes are deleted in the same transaction.
  Result<NewCode> Create(const std::string& profile, int64_t lifetime_s, int64_t now, bool keep_secret = false);
  // MacSecret: the password of a code made with keep_secret (used or not:
  // Redeem decides), for verifying a CMP PBM. kNotFound otherwise.
  Result<SecretBytes> MacSecret(const std::string& id);
  // Redeem: checks `id`/`password` for `profile` and, if valid, burns the
  // code and runs `use` (the issuance). The code is burnt in the database
  // before `use` runs and given back if `use` fails, so a refused CSR does
  // not burn it, and a crash during the issuance leaves it burnt. Errors:
  // kUnauthenticated for an unknown id or a wrong password, kPermissionDenied
  // when the code is used (also: by another process a moment before),
  // expired or for another profile; kUnavailable without the database;
  // `use`'s error otherwise. The password comparison is constant time.
  Status Redeem(const std::string& id, const SecretBytes& password, const std::string& profile, int64_t now,
                const std::function<Status()>& use);

 private:
  // Db: the connection, opened (and the legacy file imported) on first use.
  // REQUIRES: mu_ held.
  Result<CertDb*> Db();
  Status ImportLegacyFile(CertDb& db);

  std::string dir_;
  std::string database_;
  std::mutex mu_;
  std::unique_ptr<CertDb> db_;  // guarded by mu_
};

}  // namespace certvault::ca::est

#endif  // CERTVAULT_CA_EST_ENROLL_CODES_H_
