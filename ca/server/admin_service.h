// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// AdminService: the admin API of `certvault-ca serve` under /admin/v1/ on
// the HTTPS listener (docs/design/roles.md, "Admin API"). A request is
// authenticated by its TLS client certificate only: a certificate of this
// issuing CA, verified at the handshake, in the database and not revoked,
// and bound to an identity (RoleService::SignIn). Then the [server.admin]
// client address allow-list and per-identity rate limit apply, and the
// request's action is checked against the permission matrix. Every failed
// sign-in (up to 60 a minute per client address) and every refusal is in
// the audit trail, every change too. Plain HTTP gets 403, unrecorded.
//   GET  whoami                         name and roles
//   GET  certs[/LIMIT]                  read-certs: "serial subject profile V|R"
//   POST issue/PROFILE  (CSR)           issue: the certificate (PEM)
//   POST revoke[/REASON]  (serials)     revoke (RFC 5280 reason code): all or none
//   POST crl                            publish-crl: signed by the server within a second (202)
//   GET  users                          read-certs: "name roles serial"
//   POST users/NAME/remove              manage-users
//   POST users/NAME/grant/ROLE, users/NAME/revoke/ROLE   manage-users
//   GET  audit[/LIMIT]                  read-audit
//   POST users/NAME/add/ROLE  (CSR)     manage-users: the operator certificate (PEM)
//   GET  config                         configure: ca.toml as it is now
//   POST config  (a whole ca.toml)      configure: checked, written, [server] reloaded
//   POST rollover[/root]                rotate-keys: a new key generation
//   GET  audit/verify                   verify-audit: the chain checked
//   GET  audit/export[/SINCE]           export-audit: JSON lines (seconds since the epoch)
// The routes that need the CA instance (user add, config, rollover, audit
// verify) run one at a time on the serve loop's thread, on a CA instance of
// their own, through AdminDeps::run_on_ca (admin_ca_tasks.cc); the others
// on the server's threads.
// Answers: 200/202, 400 malformed, 401 no or unknown client certificate,
// 403 not allowed (matrix, allow-list, revoked), 404 unknown route or
// identity, 409 a rule refused the change (separation of duties), 429 rate
// limit, 503 the CA cannot act now. Bodies are text/plain.
// Thread-safe: Handle runs on the server's threads; the database
// connection is used under one mutex.
#ifndef CERTVAULT_CA_SERVER_ADMIN_SERVICE_H_
#define CERTVAULT_CA_SERVER_ADMIN_SERVICE_H_

#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ca/http/http_server.h"
#include "ca/instance/ca_instance.h"
#include "ca/roles/role_service.h"
#include "ca/server/issue_queue.h"
#include "ca/server/server_config.h"

namespace certvault::ca {

// CaTask: work on the CA instance (token, CA keys, ca.toml); its text is the
// answer's body.
using CaTask = std::function<Result<std::string>(CaInstance&)>;

struct AdminDeps {
  // ca_name, issuing, retired: the generation at start (SetGeneration).
  std::string ca_name;                // the issuing CA's name in the database
  X509* issuing = nullptr;            // borrowed
  CertDb* db = nullptr;               // its own connection
  IssueQueue* queue = nullptr;        // null: issue answers 503
  std::function<bool()> may_sign;     // false: issue and crl answer 503
  std::function<void()> request_crl;  // asks the serve loop to sign CRLs now
  const AuditConfig* alerts = nullptr;  // [audit.alert] for user/role changes (borrowed; may be null)
  // run_on_ca: runs the task on the serve loop's thread with a CA instance
  // opened for it (token logged in) and returns its result (kUnavailable
  // when the server stops first). Null: those routes answer 503.
  std::function<Result<std::string>(CaTask)> run_on_ca;
  // reload_server: re-reads [server] as SIGHUP does. REQUIRES: called inside
  // a CaTask (the serve loop's thread). Null: nothing to reload.
  std::function<Status()> reload_server;
  // rolled_over: a new key generation was made (by a CaTask); this process
  // must not issue with the old key until it has switched (SetGeneration).
  std::function<void()> rolled_over;
  // retired: the live retired issuing generations (database CA name,
  // certificate; borrowed): their operator certificates still sign in.
  std::vector<std::pair<std::string, X509*>> retired;
};

class AdminService {
 public:
  AdminService(AdminDeps deps, AdminConfig config)
      : deps_(std::move(deps)), roles_(*deps_.db, deps_.ca_name), config_(std::move(config)) {
    roles_.SetAlerts(deps_.alerts);
    SetGeneration(deps_.ca_name, deps_.issuing, deps_.retired);
  }
  // Handle: false for paths outside /admin/.
  bool Handle(const HttpRequest& request, HttpReply& reply);
  // SetConfig: [server.admin] for requests from now on (SIGHUP).
  void SetConfig(AdminConfig config);
  // SetGeneration: after a key rollover, the issuing generation (database
  // CA name, certificate) and the live retired ones, as in AdminDeps
  // (borrowed; they outlive the service), for requests from now on:
  // sign-in by operator certificate, certs (list), revoke, crl.
  void SetGeneration(std::string ca_name, X509* issuing, std::vector<std::pair<std::string, X509*>> retired);

 private:
  struct Call {
    Principal who;
    std::string address;
  };
  static constexpr uint32_t kMaxFailureRecords = 60;
  // Generation: what SetGeneration publishes; a request reads one snapshot.
  struct Generation {
    std::string ca_name;
    X509* issuing = nullptr;
    std::vector<std::pair<std::string, X509*>> retired;
  };
  std::shared_ptr<const Generation> CurrentGeneration() const;
  Status Authenticate(const HttpRequest& request, Call& call);
  std::string IssuerOf(X509* cert) const;
  Result<std::vector<std::pair<std::string, std::vector<Revocation>>>> ByGeneration(std::vector<Revocation> revs);
  bool FailureRecordAllowed(const std::string& address);
  Status CheckLimits(Call& call);
  Status Route(const HttpRequest& request, Call& call, HttpReply& reply);
  Status Allow(Call& call, Action action, const std::string& target);
  Status Certs(const HttpRequest& request, Call& call, HttpReply& reply);
  Status Issue(const HttpRequest& request, Call& call, HttpReply& reply);
  Status Revoke(const HttpRequest& request, Call& call, HttpReply& reply);
  Status Users(Call& call, HttpReply& reply);
  Status UserChange(const std::string& rest, Call& call, HttpReply& reply);
  Status Audit(const HttpRequest& request, Call& call, HttpReply& reply);
  // admin_ca_tasks.cc: the routes that run a CaTask, and audit export.
  Status RunOnCa(Call& call, const std::string& action, const std::string& target, const CaTask& task,
                 HttpReply& reply);
  Status UserAdd(const HttpRequest& request, const std::string& name, const std::string& role, Call& call,
                 HttpReply& reply);
  Status Config(const HttpRequest& request, Call& call, HttpReply& reply);
  Status Rollover(const std::string& route, Call& call, HttpReply& reply);
  Status AuditVerify(Call& call, HttpReply& reply);
  Status AuditExport(const std::string& since, Call& call, HttpReply& reply);

  AdminDeps deps_;
  std::mutex db_mu_;   // deps_.db and roles_ (one connection)
  RoleService roles_;  // guarded by db_mu_
  std::mutex mu_;
  AdminConfig config_;  // guarded by mu_
  mutable std::mutex gen_mu_;
  std::shared_ptr<const Generation> gen_;  // guarded by gen_mu_
  // Fixed one-minute windows per identity: (window start, count).
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, uint32_t>> rate_;  // guarded by mu_
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, uint32_t>> failures_;  // guarded by mu_
};

// CheckConfigChange: OK when `next` (a ca.toml sent to POST config) keeps
// what the CA's keys, certificates and database are bound to, as `now` has
// it: [ca] name, root_subject, issuing_subject, key_algorithm,
// signature_algorithm, database, policy and [token]. kFailedPrecondition
// naming the first that differs (a new CA is `init` in a new directory).
Status CheckConfigChange(const CaConfig& now, const CaConfig& next);

// AdminText: a text/plain answer (one trailing newline). Internal to the
// admin_*.cc files.
void AdminText(HttpReply& reply, unsigned int code, const std::string& text);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_ADMIN_SERVICE_H_
