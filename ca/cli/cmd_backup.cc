// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca backup / restore (issue 16, docs/formats/backup.md "CA
// instance archive"): a whole CA instance in one file — a consistent
// snapshot of its database (SQLite: the online backup API; PostgreSQL:
// pg_dump, ca/db/pg_backup.h), the files of its directory (ca.toml,
// certificates, the audit public key) and the archive of its token made by
// `certvault backup` under the token's quorum. The PIN file is never included.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "ca/cli/cli.h"
#include "ca/config/ca_config.h"
#include "ca/db/ca_archive.h"
#include "ca/db/pg_backup.h"
#include "src/base/status_macros.h"

namespace certvault::ca::cli {
namespace {

namespace fs = std::filesystem;

using Entry = CaArchiveEntry;

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
// SQLite database `db` (snapshotted instead) and its journals, the PIN file,
// dot files and the archive's own entry names.
Result<std::vector<Entry>> InstanceFiles(const CaConfig& config, const std::optional<fs::path>& db) {
  std::vector<Entry> out;
  std::error_code ec;
  for (const fs::directory_entry& f : fs::directory_iterator(config.dir, ec)) {
    const std::string name = f.path().filename().string();
    const bool journal = db.has_value() && name.starts_with(db->filename().string());
    const bool reserved = name == kCaArchiveTokenEntry || name == kCaArchivePgDumpEntry;
    if (!f.is_regular_file() || journal || reserved || !IsPlainEntryName(name) ||
        name.find(".tmp") != std::string::npos) {
      continue;
    }
    if (!config.token.pin_file.empty() && fs::equivalent(f.path(), config.token.pin_file, ec)) continue;
    CV_ASSIGN_OR_RETURN(Bytes data, ReadFileBytes(f.path().string()));
    out.push_back({name, std::move(data)});
  }
  if (ec) return UnavailableError("cannot list " + config.dir);
  return out;
}

// DatabaseEntry: the consistent snapshot of the instance's database, as the
// archive entry it becomes.
Result<Entry> DatabaseEntry(const CaConfig& config) {
  const std::string scratch = config.dir + "/.backup-snapshot." + std::to_string(getpid());
  if (!config.database.starts_with("sqlite:")) {
    CV_ASSIGN_OR_RETURN(Bytes dump, DumpPostgres(config.database, scratch));
    return Entry{kCaArchivePgDumpEntry, std::move(dump)};
  }
  const fs::path db = config.database.substr(7);
  if (db.parent_path() != fs::path(config.dir)) return InvalidArgumentError("the database is not in " + config.dir);
  Status st = SnapshotDb(db.string(), scratch);
  Result<Bytes> data = st.ok() ? ReadFileBytes(scratch) : Result<Bytes>(st);
  ::unlink(scratch.c_str());
  CV_RETURN_IF_ERROR(data.status());
  return Entry{db.filename().string(), std::move(*data)};
}

uint64_t NowMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// BuildBackup: the token archive is read before the database is snapshotted
// (docs/formats/backup.md: the token's CRL record is never ahead of the
// database it is restored with).
Result<Bytes> BuildBackup(const Args& args) {
  Result<CaConfig> loaded = LoadConfig(InstanceDir(args));
  if (!loaded.ok()) AuditRefusedStart(args, InstanceDir(args), loaded.status());
  CV_ASSIGN_OR_RETURN(CaConfig config, std::move(loaded));
  CV_ASSIGN_OR_RETURN(Bytes token, ReadFileBytes(args.Get("token-archive")));
  if (token.size() < 5 || !std::equal(token.begin(), token.begin() + 4, "CVBK")) {
    return InvalidArgumentError("--token-archive: not a certvault token archive (certvault backup)");
  }
  std::optional<fs::path> db;
  if (config.database.starts_with("sqlite:")) db = fs::path(config.database.substr(7));
  CV_ASSIGN_OR_RETURN(std::vector<Entry> entries, InstanceFiles(config, db));
  CV_ASSIGN_OR_RETURN(Entry database, DatabaseEntry(config));
  entries.push_back(std::move(database));
  entries.push_back({kCaArchiveTokenEntry, std::move(token)});
  return EncodeCaArchive(entries, NowMs());
}

// TomlQuoted: `v` as a TOML basic string.
std::string TomlQuoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// WithDatabaseUrl: ca.toml `toml` with the `url` of its [database] table set
// to `url` (the line replaced; every other byte kept).
Result<Bytes> WithDatabaseUrl(const Bytes& toml, const std::string& url) {
  if (url.find_first_of("\n\r") != std::string::npos) return InvalidArgumentError("--database: one line");
  std::string text(toml.begin(), toml.end()), out;
  bool in_database = false, replaced = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    std::string line = text.substr(pos, end - pos);
    const size_t first = line.find_first_not_of(" \t");
    const std::string body = first == std::string::npos ? "" : line.substr(first);
    if (body.starts_with("[")) in_database = body.starts_with("[database]");
    if (in_database && !replaced && body.starts_with("url") && body.find('=') != std::string::npos &&
        body.find_first_not_of(" \t", 3) == body.find('=')) {
      line = "url = " + TomlQuoted(url) + "\n";
      replaced = true;
    }
    out += line;
    pos = end;
  }
  if (!replaced) return FailedPreconditionError("the backup's ca.toml has no [database] url to point at --database");
  return Bytes(out.begin(), out.end());
}

// PrepareEntries: the entries restore writes as files (the PostgreSQL dump
// is loaded, not written; ca.toml then names --database), and the dump.
Result<std::vector<Entry>> PrepareEntries(std::vector<Entry> entries, const Args& args,
                                          std::optional<Bytes>* out_dump) {
  std::vector<Entry> files;
  for (Entry& e : entries) {
    if (e.name == kCaArchivePgDumpEntry) {
      *out_dump = std::move(e.data);
    } else {
      files.push_back(std::move(e));
    }
  }
  if (!out_dump->has_value()) {
    if (args.Has("database")) return InvalidArgumentError("--database: this backup holds a SQLite database");
    return files;
  }
  if (!args.Has("database")) {
    return InvalidArgumentError("this backup holds a PostgreSQL database: name a new, empty one with --database URL");
  }
  for (Entry& e : files) {
    if (e.name == "ca.toml") {
      CV_ASSIGN_OR_RETURN(e.data, WithDatabaseUrl(e.data, args.Get("database")));
      return files;
    }
  }
  return DataLossError("the backup has no ca.toml");
}

// WriteInstance: `files` into the empty directory `dir` and, for a
// PostgreSQL instance, `dump` into --database; on any failure what was
// written is removed again (a half-loaded database rolls back on its own).
Status WriteInstance(const fs::path& dir, const std::vector<Entry>& files, const std::optional<Bytes>& dump,
                     const Args& args) {
  std::vector<fs::path> written;
  Status st = dump.has_value() ? CheckPostgresEmpty(args.Get("database")) : OkStatus();
  for (size_t i = 0; st.ok() && i < files.size(); ++i) {
    st = WriteNew((dir / files[i].name).string(), files[i].data);
    if (st.ok()) written.push_back(dir / files[i].name);
  }
  if (st.ok() && dump.has_value()) {
    st = LoadPostgres(args.Get("database"), *dump, (dir / (".restore-load." + std::to_string(getpid()))).string());
  }
  if (!st.ok()) {
    std::error_code ec;
    for (const fs::path& p : written) fs::remove(p, ec);
  }
  return st;
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
  Result<std::vector<Entry>> entries = DecodeCaArchive(*file);
  if (!entries.ok()) return Fail(entries.status());
  std::optional<Bytes> dump;
  Result<std::vector<Entry>> files = PrepareEntries(std::move(*entries), args, &dump);
  if (!files.ok()) return Fail(files.status());
  const fs::path dir = InstanceDir(args);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Fail(AlreadyExistsError(dir.string() + " is not empty: restore writes a new instance directory"));
  }
  const bool created = !fs::exists(dir, ec);
  if (created && (!fs::create_directories(dir, ec) || ::chmod(dir.c_str(), 0700) != 0)) {
    return Fail(PermissionDeniedError("cannot create " + dir.string()));
  }
  if (Status st = WriteInstance(dir, *files, dump, args); !st.ok()) {
    if (created) fs::remove(dir, ec);  // empty again: WriteInstance removed what it wrote
    return Fail(st);
  }
  std::fprintf(stderr,
               "restored %zu files%s into %s; restore the token before signing: certvault --vault VAULT restore "
               "%s/%s --custodian DIR..., and give the instance its PIN file\n",
               files->size(), dump.has_value() ? " and the PostgreSQL database" : "", dir.c_str(), dir.c_str(),
               kCaArchiveTokenEntry);
  return 0;
}

}  // namespace certvault::ca::cli
