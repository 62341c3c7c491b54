// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca backup / restore (issue 16, docs/formats/backup.md "CA
// instance archive"): a whole CA instance in one file — a consistent
// snapshot of its SQLite database (online backup API), the files of its
// directory (ca.toml, certificates, the audit public key) and the archive of
// its token made by `certvault backup` under the token's quorum. The PIN
// file is never included.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "ca/cli/cli.h"
#include "ca/config/ca_config.h"
#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[] = "CVCA";
constexpr uint8_t kVersion = 1;
constexpr char kTokenEntry[] = "token.cvbk";

struct Entry {
  std::string name;
  Bytes data;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

Result<DbPtr> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);  // closed even when the open failed (sqlite3_open_v2 contract)
  if (rc != SQLITE_OK) return UnavailableError("cannot open " + path);
  return db;
}

// SnapshotDb: a consistent copy of the database at `src` in `dst`, by the
// SQLite online backup API (https://sqlite.org/backup.html): one step that
// copies every page under a read transaction, so concurrent writers
// (`ocsp serve`, an issuing process) cannot tear it.
Status SnapshotDb(const std::string& src, const std::string& dst) {
  CV_ASSIGN_OR_RETURN(DbPtr from, OpenDb(src, SQLITE_OPEN_READONLY));
  CV_ASSIGN_OR_RETURN(DbPtr to, OpenDb(dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3_backup* b = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (b == nullptr) return UnavailableError(std::string("sqlite3_backup_init: ") + sqlite3_errmsg(to.get()));
  int step = sqlite3_backup_step(b, -1);
  int finish = sqlite3_backup_finish(b);
  if (step != SQLITE_DONE || finish != SQLITE_OK) {
    return UnavailableError(std::string("database snapshot failed: ") + sqlite3_errmsg(to.get()));
  }
  return OkStatus();
}

Result<Bytes> Sha256(std::span<const uint8_t> data) {
  Bytes md(32);
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_sha256(), nullptr) != 1 || n != 32) {
    return InternalError("EVP_Digest");
  }
  return md;
}

// SafeName: a plain file name, so that restore writes only inside its directory.
bool SafeName(const std::string& n) {
  if (n.empty() || n.size() > 255 || n[0] == '.') return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

Result<Bytes> Encode(const std::vector<Entry>& entries) {
  Bytes out(kMagic, kMagic + 4);
  ByteWriter<Bytes> w(&out);
  w.WriteU8(kVersion);
  w.WriteU64(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()));
  w.WriteU32(static_cast<uint32_t>(entries.size()));
  for (const Entry& e : entries) {
    w.WriteU32LengthPrefixed(AsSpan(e.name));
    w.WriteU32LengthPrefixed(e.data);
  }
  CV_ASSIGN_OR_RETURN(Bytes md, Sha256(out));
  w.WriteBytes(md);
  return out;
}

Result<std::vector<Entry>> Decode(std::span<const uint8_t> in) {
  const Status bad = DataLossError("not a certvault-ca backup, or truncated or damaged");
  if (in.size() < 4 + 1 + 8 + 4 + 32 || !std::equal(in.begin(), in.begin() + 4, kMagic)) return bad;
  CV_ASSIGN_OR_RETURN(Bytes md, Sha256(in.first(in.size() - 32)));
  if (!std::equal(md.begin(), md.end(), in.end() - 32)) return bad;
  ByteReader r(in.subspan(4, in.size() - 4 - 32));
  uint8_t version = 0;
  uint64_t created = 0;
  uint32_t count = 0;
  if (!r.ReadU8(&version) || !r.ReadU64(&created) || !r.ReadU32(&count)) return bad;
  if (version != kVersion) return DataLossError("backup format version " + std::to_string(version) + " is not 1");
  std::vector<Entry> out;
  for (uint32_t i = 0; i < count; ++i) {
    std::span<const uint8_t> name, data;
    if (!r.ReadU32LengthPrefixed(&name) || !r.ReadU32LengthPrefixed(&data)) return bad;
    Entry e{std::string(name.begin(), name.end()), Bytes(data.begin(), data.end())};
    if (!SafeName(e.name)) return bad;
    out.push_back(std::move(e));
  }
  if (!r.empty()) return bad;
  return out;
}

// WriteNew: `data` to `path`, mode 0600, never over an existing file.
Status WriteNew(const std::string& path, std::span<const uint8_t> data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return AlreadyExistsError("cannot create " + path + " (it exists, or the directory refused it)");
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return UnavailableError("cannot write " + path);
  return OkStatus();
}

// InstanceFiles: the regular files of the instance directory but the
// database (snapshotted instead), its journals, the PIN file and dot files.
Result<std::vector<Entry>> InstanceFiles(const CaConfig& config, const fs::path& db) {
  std::vector<Entry> out;
  std::error_code ec;
  for (const fs::directory_entry& f : fs::directory_iterator(config.dir, ec)) {
    const std::string name = f.path().filename().string();
    const bool journal = name.starts_with(db.filename().string());
    if (!f.is_regular_file() || journal || !SafeName(name) || name.find(".tmp") != std::string::npos) continue;
    if (!config.token.pin_file.empty() && fs::equivalent(f.path(), config.token.pin_file, ec)) continue;
    CV_ASSIGN_OR_RETURN(Bytes data, ReadFileBytes(f.path().string()));
    out.push_back({name, std::move(data)});
  }
  if (ec) return UnavailableError("cannot list " + config.dir);
  return out;
}

Result<Bytes> BuildBackup(const Args& args) {
  CV_ASSIGN_OR_RETURN(CaConfig config, LoadConfig(InstanceDir(args)));
  if (!config.database.starts_with("sqlite:")) {
    return Status(Reason::kFunctionNotSupported, "backup covers SQLite databases; for PostgreSQL use pg_dump");
  }
  const fs::path db = config.database.substr(7);
  if (db.parent_path() != fs::path(config.dir)) return InvalidArgumentError("the database is not in " + config.dir);
  CV_ASSIGN_OR_RETURN(Bytes token, ReadFileBytes(args.Get("token-archive")));
  if (token.size() < 5 || !std::equal(token.begin(), token.begin() + 4, "CVBK")) {
    return InvalidArgumentError("--token-archive: not a certvault token archive (certvault backup)");
  }
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, InstanceFiles(config, db));
  const std::string snap = config.dir + "/.backup-snapshot." + std::to_string(getpid());
  Status st = SnapshotDb(db.string(), snap);
  Result<Bytes> data = st.ok() ? ReadFileBytes(snap) : Result<Bytes>(st);
  ::unlink(snap.c_str());
  CV_RETURN_IF_ERROR(data.status());
  entries.push_back({db.filename().string(), std::move(*data)});
  entries.push_back({kTokenEntry, std::move(token)});
  return Encode(entries);
}

}  // namespace

int CmdBackup(Args& args) {
  if (!args.Has("out") || !args.Has("token-archive")) return Usage("backup: --out FILE and --token-archive T.cvbk");
  Result<Bytes> archive = BuildBackup(args);
  if (!archive.ok()) return Fail(archive.status());
  if (Status st = WriteNew(args.Get("out"), *archive); !st.ok()) return Fail(st);
  std::fprintf(stderr, "backup of %s: %zu bytes -> %s\n", InstanceDir(args).c_str(), archive->size(),
               args.Get("out").c_str());
  return 0;
}

int CmdRestore(Args& args) {
  if (args.positional.size() != 1) return Usage("restore: give the backup file");
  Result<Bytes> file = ReadFileBytes(args.positional[0]);
  if (!file.ok()) return Fail(file.status());
  Result<std::vector<Entry>> entries = Decode(*file);
  if (!entries.ok()) return Fail(entries.status());
  const fs::path dir = InstanceDir(args);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Fail(AlreadyExistsError(dir.string() + " is not empty: restore writes a new instance directory"));
  }
  if (!fs::exists(dir, ec) && (!fs::create_directories(dir, ec) || ::chmod(dir.c_str(), 0700) != 0)) {
    return Fail(PermissionDeniedError("cannot create " + dir.string()));
  }
  for (const Entry& e : *entries) {
    if (Status st = WriteNew((dir / e.name).string(), e.data); !st.ok()) return Fail(st);
  }
  std::fprintf(stderr,
               "restored %zu files into %s; restore the token before signing: certvault --vault VAULT restore "
               "%s/%s --custodian DIR..., and give the instance its PIN file\n",
               entries->size(), dir.c_str(), dir.c_str(), kTokenEntry);
  return 0;
}

}  // namespace certvault::ca::cli
