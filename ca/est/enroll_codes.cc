// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/enroll_codes.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "ca/instance/ca_instance.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca::est {
namespace {

// Entry: one line of the legacy file DIR/enroll-codes:
//   <id> <profile> <expires> <used|0> <salt-hex> <sha256-hex> [<secret-hex>|-]
struct Entry {
  std::string id, profile;
  int64_t expires = 0, used = 0;
  std::string salt_hex, hash_hex;
  std::string secret_hex = "-";  // the password itself, kept only for CMP codes ("-": not kept)
};

// FileLock: an exclusive flock held for the object's lifetime (the lock file
// the file store used, so that the import never races an older process).
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ >= 0 && flock(fd_, LOCK_EX) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

Result<std::vector<Entry>> ReadAll(const std::string& path) {
  std::vector<Entry> out;
  std::ifstream in(path);
  if (!in) return out;  // no codes yet
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Entry e;
    if (!(fields >> e.id >> e.profile >> e.expires >> e.used >> e.salt_hex >> e.hash_hex)) {
      return DataLossError("enroll-codes: malformed line");
    }
    if (!(fields >> e.secret_hex)) e.secret_hex = "-";  // lines of the 6-field format
    out.push_back(std::move(e));
  }
  return out;
}

Result<Bytes> HashPassword(std::span<const uint8_t> salt, std::span<const uint8_t> password) {
  ossl::UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  Bytes out(32);
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), crypto::DigestByName("SHA256"), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), password.data(), password.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    return ossl::OpenSslError("SHA-256");
  }
  return out;
}

Result<Bytes> RandomBytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes_ex(crypto::LibCtx(), out.data(), n, 0) != 1) return ossl::OpenSslError("RAND_bytes_ex");
  return out;
}

// Base64Url: RFC 4648 §5 without padding (a password typed into curl -u).
std::string Base64Url(std::span<const uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

}  // namespace

Result<CertDb*> EnrollCodes::Db() {
  if (db_ != nullptr) return db_.get();
  auto db = OpenCertDb(database_);
  if (!db.ok()) return UnavailableError("enrollment codes are unavailable: " + std::string(db.status().message()));
  CV_RETURN_IF_ERROR(ImportLegacyFile(**db));
  db_ = std::move(*db);
  return db_.get();
}

// ImportLegacyFile: codes of DIR/enroll-codes into the database (a code
// already there is kept as it is), then the file is renamed, so that the
// import runs once and an operator can still read what was imported.
Status EnrollCodes::ImportLegacyFile(CertDb& db) {
  std::string path = dir_ + "/enroll-codes";
  if (access(path.c_str(), F_OK) != 0) return OkStatus();
  FileLock lock(path + ".lock");
  if (!lock.ok()) return UnavailableError("cannot lock " + path + ".lock");
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadAll(path));
  for (const Entry& e : entries) {
    EnrollCodeRow row{e.id, e.profile, e.expires, e.used, {}, {}, {}};
    if (!HexDecode(e.salt_hex, &row.salt) || !HexDecode(e.hash_hex, &row.hash) ||
        (e.secret_hex != "-" && !HexDecode(e.secret_hex, &row.secret))) {
      return DataLossError("enroll-codes: malformed entry");
    }
    Status st = db.AddEnrollCode(row, 0);
    OPENSSL_cleanse(row.secret.data(), row.secret.size());
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st.Annotate("importing " + path);
  }
  if (std::rename(path.c_str(), (path + ".imported").c_str()) != 0 && access(path.c_str(), F_OK) == 0) {
    return UnavailableError("cannot rename " + path + " after importing it");
  }
  return OkStatus();
}

Result<NewCode> EnrollCodes::Create(const std::string& profile, int64_t lifetime_s, int64_t now, bool keep_secret) {
  CV_ASSIGN_OR_RETURN(Bytes id, RandomBytes(6));
  CV_ASSIGN_OR_RETURN(Bytes secret, RandomBytes(16));
  CV_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(16));
  std::string password = Base64Url(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  NewCode code{"c" + HexEncode(id), SecretBytes(password, SecretAccess::Get()), now + lifetime_s};
  OPENSSL_cleanse(password.data(), password.size());
  CV_ASSIGN_OR_RETURN(Bytes hash, HashPassword(salt, code.password.Bytes(SecretAccess::Get())));
  EnrollCodeRow row{code.id, profile, code.expires, 0, std::move(salt), std::move(hash), {}};
  if (keep_secret) {
    auto pw = code.password.Bytes(SecretAccess::Get());
    row.secret.assign(pw.begin(), pw.end());
  }
  std::lock_guard<std::mutex> lock(mu_);
  CV_ASSIGN_OR_RETURN(CertDb * db, Db());
  Status st = db->AddEnrollCode(row, now);  // also deletes expired codes: the table stays small
  OPENSSL_cleanse(row.secret.data(), row.secret.size());
  CV_RETURN_IF_ERROR(st);
  return code;
}

Status EnrollCodes::Redeem(const std::string& id, const SecretBytes& password, const std::string& profile, int64_t now,
                           const std::function<Status()>& use) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CV_ASSIGN_OR_RETURN(CertDb * db, Db());
    Result<EnrollCodeRow> row = db->FindEnrollCode(id);
    if (row.status().code() == StatusCode::kNotFound) return UnauthenticatedError("unknown enrollment code");
    if (!row.ok()) return UnavailableError("enrollment codes are unavailable");
    OPENSSL_cleanse(row->secret.data(), row->secret.size());
    if (row->hash.size() != 32) return DataLossError("enroll_codes: malformed entry");
    CV_ASSIGN_OR_RETURN(Bytes hash, HashPassword(row->salt, password.Bytes(SecretAccess::Get())));
    if (CRYPTO_memcmp(hash.data(), row->hash.data(), 32) != 0) return UnauthenticatedError("wrong enrollment code");
    if (row->used != 0) return PermissionDeniedError("enrollment code already used");
    if (row->expires < now) return PermissionDeniedError("enrollment code expired");
    if (row->profile != profile) return PermissionDeniedError("enrollment code is for another profile");
    // Burnt before it is used, by one conditional UPDATE: another process
    // that read the code as unused a moment ago loses here. Once a
    // certificate may have been issued, a failure can no longer leave the
    // code usable; a refused CSR gives it back (a crash in between leaves
    // it burnt: fail closed).
    CV_RETURN_IF_ERROR(db->BurnEnrollCode(id, profile, now));
  }
  Status used = use();  // not under mu_: redemptions of other codes go on meanwhile
  if (used.ok()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  if (Result<CertDb*> db = Db(); db.ok()) {
    (void)(*db)->ReturnEnrollCode(id, now);  // best effort: the refusal is what the caller reports
  }
  return used;
}

Result<SecretBytes> EnrollCodes::MacSecret(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  CV_ASSIGN_OR_RETURN(CertDb * db, Db());
  Result<EnrollCodeRow> row = db->FindEnrollCode(id);
  if (row.status().code() == StatusCode::kNotFound || (row.ok() && row->secret.empty())) {
    return NotFoundError("no CMP enrollment code with this id");
  }
  if (!row.ok()) return UnavailableError("enrollment codes are unavailable");
  SecretBytes out(row->secret, SecretAccess::Get());
  OPENSSL_cleanse(row->secret.data(), row->secret.size());
  return out;
}

}  // namespace certvault::ca::est
