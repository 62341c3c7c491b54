// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/testing/pg_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "ca/testing/free_port.h"

namespace certvault::ca::testing {
namespace {

// PgBin: the newest /usr/lib/postgresql/<version>/bin with initdb, or "".
std::string PgBin() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string bin = entry.path().string() + "/bin";
    if (access((bin + "/initdb").c_str(), X_OK) == 0 && access((bin + "/pg_ctl").c_str(), X_OK) == 0 &&
        (best.empty() || bin > best)) {
      best = bin;
    }
  }
  return best;
}

std::string RunAs() { return getuid() == 0 ? "runuser -u postgres -- " : ""; }

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  std::unique_ptr<PgServer> s(new PgServer());
  s->bin_ = PgBin();
  if (s->bin_.empty()) return NotFoundError("PostgreSQL server binaries are not installed");
  if (getuid() == 0 && std::system("id -u postgres >/dev/null 2>&1") != 0) return NotFoundError("no postgres user");
  char tmpl[] = "/tmp/cv-ca-pg.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return UnavailableError("mkdtemp failed");
  s->dir_ = tmpl;
  std::string port = std::to_string(FreeLoopbackPort());
  std::string dir = "'" + s->dir_ + "'";
  std::string cmd = "chmod 755 " + dir + (getuid() == 0 ? " && chown postgres " + dir : std::string()) + " && " +
                    RunAs() + s->bin_ + "/initdb -D " + s->dir_ + "/data -A trust -U postgres --no-sync >" +
                    s->dir_ + "/initdb.log 2>&1 && " + RunAs() + "timeout 60 " + s->bin_ + "/pg_ctl -D " + s->dir_ +
                    "/data -l " + s->dir_ + "/server.log -w -o \"-p " + port + " -k " + s->dir_ +
                    " -c listen_addresses='' -c fsync=on\" start >/dev/null";
  if (std::system(cmd.c_str()) != 0) return UnavailableError("PostgreSQL did not start (see " + s->dir_ + ")");
  s->running_ = true;
  cmd = RunAs() + "timeout 60 " + s->bin_ + "/createdb -h " + s->dir_ + " -p " + port + " -U postgres ca";
  if (std::system(cmd.c_str()) != 0) return UnavailableError("createdb failed");
  s->conninfo_ = "host=" + s->dir_ + " port=" + port + " dbname=ca user=postgres";
  return s;
}

PgServer::~PgServer() {
  if (running_) {
    std::string cmd = RunAs() + "timeout 60 " + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate stop >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) running_ = false;
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace certvault::ca::testing
