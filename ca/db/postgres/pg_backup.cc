// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/db/pg_backup.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "ca/db/sql.h"
#include "src/base/status_macros.h"

extern char** environ;

namespace certvault::ca {
namespace {

// Run: `argv` (argv[0] looked up on PATH, no shell) with stdin from
// /dev/null; its stderr is ours, so the operator sees PostgreSQL's message.
Status Run(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return UnavailableError("cannot run " + argv[0] + " (is the PostgreSQL client installed?)");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return UnavailableError("waitpid " + argv[0]);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError(argv[0] + " failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")");
  }
  return OkStatus();
}

// Scratch: an empty 0600 file at `path` (never an existing one), removed by
// the destructor.
class Scratch {
 public:
  explicit Scratch(std::string path) : path_(std::move(path)) {}
  ~Scratch() {
    if (created_) ::unlink(path_.c_str());
  }
  Status Create(const Bytes& data) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return UnavailableError("cannot create " + path_);
    created_ = true;
    bool ok = data.empty() || ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
    ok = ::close(fd) == 0 && ok;
    if (!ok) return UnavailableError("cannot write " + path_);
    return OkStatus();
  }
  Result<Bytes> Read() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return UnavailableError("cannot read " + path_);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool created_ = false;
};

}  // namespace

Result<Bytes> DumpPostgres(const std::string& conninfo, const std::string& scratch) {
  Scratch out(scratch);
  CV_RETURN_IF_ERROR(out.Create({}));  // 0600 before pg_dump writes into it
  // pg_dump(1): "Dumps ... are consistent even if the database is being used
  // concurrently" (it takes one snapshot for every table it reads).
  CV_RETURN_IF_ERROR(Run({"pg_dump", "--format=plain", "--no-owner", "--no-privileges", "--quote-all-identifiers",
                          "--file=" + out.path(), "--dbname=" + conninfo}));
  return out.Read();
}

Status CheckPostgresEmpty(const std::string& conninfo) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<SqlConnection> conn, OpenPostgres(conninfo));
  CV_ASSIGN_OR_RETURN(SqlStatement * st,
                      conn->Prepare("SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                                    "ON n.oid = c.relnamespace WHERE n.nspname <> 'information_schema' AND "
                                    "n.nspname NOT LIKE 'pg\\_%'"));
  CV_ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t relations = row ? st->Int(0) : -1;
  if (relations != 0) {
    return FailedPreconditionError("the database is not empty (" + std::to_string(relations) +
                                   " relations): restore loads a PostgreSQL backup only into a new, empty database");
  }
  return OkStatus();
}

Status LoadPostgres(const std::string& conninfo, const Bytes& dump, const std::string& scratch) {
  Scratch in(scratch);
  CV_RETURN_IF_ERROR(in.Create(dump));
  return Run({"psql", "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--output=/dev/null",
              "--file=" + in.path(), "--dbname=" + conninfo});
}

}  // namespace certvault::ca
