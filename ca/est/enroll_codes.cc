// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/est/enroll_codes.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "ca/instance/ca_instance.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca::est {
namespace {

struct Entry {
  std::string id, profile;
  int64_t expires = 0, used = 0;
  std::string salt_hex, hash_hex;
  std::string secret_hex = "-";  // the password itself, kept only for CMP codes ("-": not kept)
};

// FileLock: an exclusive flock held for the object's lifetime.
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

Status WriteAll(const std::string& path, const std::vector<Entry>& entries) {
  std::string text;
  for (const Entry& e : entries) {
    text += e.id + " " + e.profile + " " + std::to_string(e.expires) + " " + std::to_string(e.used) + " " + e.salt_hex +
            " " + e.hash_hex + " " + e.secret_hex + "\n";
  }
  return WriteFile(path, text);
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

Result<NewCode> EnrollCodes::Create(const std::string& profile, int64_t lifetime_s, int64_t now, bool keep_secret) {
  FileLock lock(dir_ + "/enroll-codes.lock");
  if (!lock.ok()) return UnavailableError("cannot lock " + dir_ + "/enroll-codes.lock");
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadAll(dir_ + "/enroll-codes"));
  CV_ASSIGN_OR_RETURN(Bytes id, RandomBytes(6));
  CV_ASSIGN_OR_RETURN(Bytes secret, RandomBytes(16));
  CV_ASSIGN_OR_RETURN(Bytes salt, RandomBytes(16));
  std::string password = Base64Url(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  NewCode code{"c" + HexEncode(id), SecretBytes(password, SecretAccess::Get()), now + lifetime_s};
  OPENSSL_cleanse(password.data(), password.size());
  CV_ASSIGN_OR_RETURN(Bytes hash, HashPassword(salt, code.password.Bytes(SecretAccess::Get())));
  std::erase_if(entries, [now](const Entry& e) { return e.used != 0 || e.expires < now; });  // keep the file small
  entries.push_back(Entry{code.id, profile, code.expires, 0, HexEncode(salt), HexEncode(hash),
                          keep_secret ? HexEncode(code.password.Bytes(SecretAccess::Get())) : "-"});
  CV_RETURN_IF_ERROR(WriteAll(dir_ + "/enroll-codes", entries));
  return code;
}

Status EnrollCodes::Redeem(const std::string& id, const SecretBytes& password, const std::string& profile, int64_t now,
                           const std::function<Status()>& use) {
  FileLock lock(dir_ + "/enroll-codes.lock");
  if (!lock.ok()) return UnavailableError("enrollment codes are unavailable");
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadAll(dir_ + "/enroll-codes"));
  auto it = std::find_if(entries.begin(), entries.end(), [&id](const Entry& e) { return e.id == id; });
  if (it == entries.end()) return UnauthenticatedError("unknown enrollment code");
  Bytes salt, stored;
  if (!HexDecode(it->salt_hex, &salt) || !HexDecode(it->hash_hex, &stored) || stored.size() != 32) {
    return DataLossError("enroll-codes: malformed entry");
  }
  CV_ASSIGN_OR_RETURN(Bytes hash, HashPassword(salt, password.Bytes(SecretAccess::Get())));
  if (CRYPTO_memcmp(hash.data(), stored.data(), 32) != 0) return UnauthenticatedError("wrong enrollment code");
  if (it->used != 0) return PermissionDeniedError("enrollment code already used");
  if (it->expires < now) return PermissionDeniedError("enrollment code expired");
  if (it->profile != profile) return PermissionDeniedError("enrollment code is for another profile");
  // Burnt before it is used: once a certificate may have been issued, a
  // failed write can no longer leave the code usable again. A refused CSR
  // gives it back (a crash in between leaves it burnt: fail closed).
  it->used = now;
  CV_RETURN_IF_ERROR(WriteAll(dir_ + "/enroll-codes", entries));
  Status used = use();
  if (used.ok()) return OkStatus();
  it->used = 0;
  (void)WriteAll(dir_ + "/enroll-codes", entries);  // best effort: the refusal is what the caller reports
  return used;
}

Result<SecretBytes> EnrollCodes::MacSecret(const std::string& id) {
  FileLock lock(dir_ + "/enroll-codes.lock");
  if (!lock.ok()) return UnavailableError("enrollment codes are unavailable");
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, ReadAll(dir_ + "/enroll-codes"));
  auto it = std::find_if(entries.begin(), entries.end(), [&id](const Entry& e) { return e.id == id; });
  if (it == entries.end() || it->secret_hex == "-") return NotFoundError("no CMP enrollment code with this id");
  Bytes secret;
  if (!HexDecode(it->secret_hex, &secret)) return DataLossError("enroll-codes: malformed entry");
  SecretBytes out(secret, SecretAccess::Get());
  OPENSSL_cleanse(secret.data(), secret.size());
  return out;
}

}  // namespace certvault::ca::est
