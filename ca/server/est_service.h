// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EstService: the application side of `certvault-ca serve`: EST (RFC 7030
// with RFC 8951) under /.well-known/est/, plus /healthz and /metrics; the
// OCSP and CRL routes stay with HttpServer. Design and the authorization
// rules: docs/design/enrollment.md. Each EST answer is one of
//   200 issued / CA certificates / CSR attributes   204 no CSR attributes
//   400 malformed body or CSR                        401 no or a wrong
//   credential (WWW-Authenticate: Basic)            403 not authorized,
//   untrusted or revoked client certificate, used or expired code, a CSR
//   the profile refuses, a re-enrollment that changes the subject
//   404 unknown operation or profile                405 wrong method
//   413 body too large                              501 fullcmc, or serverkeygen
//   without a provisioning authority (est_serverkeygen.h)
//   503 the CA cannot sign now (self-test error state, database down)
// and nothing is stored unless the answer is 200. One access-log line
// (JSON) per request: request id, client address and identity (certificate
// subject/issuer/serial or enrollment code id: never a password), operation,
// profile, status, serial issued, reason, duration.
// An enrollment authenticated by a client certificate is deferred
// (HttpRequest::defer): the connection waits for the group commit without
// a thread, and the issue worker answers it once the certificate is
// committed. An enrollment code is redeemed in the same transaction as the
// issuance, so those requests wait on their thread.
// Thread-safe: Handle is called on the server's threads.
#ifndef CERTVAULT_CA_SERVER_EST_SERVICE_H_
#define CERTVAULT_CA_SERVER_EST_SERVICE_H_

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ca/est/enroll_codes.h"
#include "ca/est/est_codec.h"
#include "ca/http/http_server.h"
#include "ca/instance/ca_instance.h"
#include "ca/server/issue_queue.h"
#include "ca/server/metrics.h"
#include "ca/server/server_config.h"

namespace certvault::ca {

struct EstDeps {
  const CaConfig* ca = nullptr;
  const ServerConfig* server = nullptr;
  // ca_name, issuing, root, retired: the generation at start (SetGeneration
  // replaces them after a key rollover).
  std::string ca_name;              // the issuing CA's name in the database
  X509* issuing = nullptr;          // borrowed
  X509* root = nullptr;             // borrowed; null with an external root not installed
  // retired: the live retired issuing generations (database CA name,
  // certificate; borrowed): the TLS layer trusts their certificates, so a
  // client certificate of theirs is checked against the database too.
  std::vector<std::pair<std::string, X509*>> retired;
  CertDb* lookup_db = nullptr;      // its own connection: revocation and re-enrollment lookups
  IssueQueue* queue = nullptr;
  ServerMetrics* metrics = nullptr;
  std::function<bool()> may_sign;   // false: answer 503 to enrollments
  std::function<uint64_t()> handshake_failures;
  FILE* access_log = nullptr;       // borrowed
};

class EstService {
 public:
  // Create: precomputes the cacerts answer.
  static Result<std::unique_ptr<EstService>> Create(EstDeps deps);
  // Handle: see HttpServer's AppHandler (false for the OCSP/CRL routes).
  bool Handle(const HttpRequest& request, HttpReply& reply);
  // SetServerConfig: the [server] settings for requests that start from now
  // on (SIGHUP reload: authorize table, default profile, enrollment-code
  // profiles); requests in flight keep the one they started with.
  void SetServerConfig(std::shared_ptr<const ServerConfig> server);
  // CurrentConfig: the [server] settings requests start with now (shared with CMP).
  std::shared_ptr<const ServerConfig> CurrentConfig() const { return Server(); }
  // SetCaConfig: the CA configuration (its profiles) for requests that
  // start from now on (SIGHUP reload; the issue queue gets it too).
  void SetCaConfig(std::shared_ptr<const CaConfig> ca);
  // CurrentCa: the CA configuration requests start with now (shared with CMP).
  std::shared_ptr<const CaConfig> CurrentCa() const;
  // SetGeneration: after a key rollover, the issuing generation (database CA
  // name, certificate), the root and the live retired generations, as in
  // EstDeps (borrowed; they outlive the service), for requests that start
  // from now on: cacerts and the client-certificate lookup. A request reads
  // one snapshot, so it never sees a mix. Fails (and changes nothing) when
  // the cacerts answer cannot be encoded.
  Status SetGeneration(std::string ca_name, X509* issuing, X509* root,
                       std::vector<std::pair<std::string, X509*>> retired);

  struct Ctx;  // one request in flight (est_service.cc)

 private:
  // Generation: what SetGeneration publishes.
  struct Generation {
    std::string ca_name;
    X509* issuing = nullptr;
    X509* root = nullptr;
    std::vector<std::pair<std::string, X509*>> retired;
    std::string cacerts;  // base64 certs-only
  };
  static Result<std::shared_ptr<const Generation>> MakeGeneration(std::string ca_name, X509* issuing, X509* root,
                                                                  std::vector<std::pair<std::string, X509*>> retired);
  std::shared_ptr<const Generation> CurrentGeneration() const;
  explicit EstService(EstDeps deps)
      : deps_(std::move(deps)),
        codes_(deps_.ca->dir, deps_.ca->database),
        server_(std::make_shared<const ServerConfig>(*deps_.server)),
        ca_(std::shared_ptr<const CaConfig>(), deps_.ca) {}  // not owned: deps_.ca outlives the service
  std::shared_ptr<const ServerConfig> Server() const;
  void Est(const HttpRequest& request, const est::EstPath& path, Ctx& ctx, HttpReply& reply);
  void Enroll(const HttpRequest& request, const std::string& profile, bool reenroll, Ctx& ctx, HttpReply& reply);
  void Reenroll(const HttpRequest& request, const std::string& label, Bytes csr, Ctx& ctx, HttpReply& reply);
  void EnrollWithCode(const std::string& authorization, const std::string& profile, Bytes csr, Ctx& ctx,
                      HttpReply& reply);
  Status CheckClientCert(const ConnectionPeer& peer, Ctx& ctx, CertRecord* out_own);
  Status IssueInto(IssueItem item, const std::string& profile, Ctx& ctx, HttpReply& reply);
  Status KeygenInto(Bytes csr, const std::string& profile, Ctx& ctx, HttpReply& reply);
  void IssueDeferred(const HttpRequest& request, IssueItem item, const std::string& profile, Ctx& ctx,
                     HttpReply& reply);
  Status AnswerIssued(Result<IssueOutcome> out, Ctx& ctx, HttpReply& reply);
  void Finish(const Ctx& ctx, HttpReply& reply);
  void Log(const Ctx& ctx, const HttpReply& reply);

  EstDeps deps_;
  est::EnrollCodes codes_;
  std::mutex lookup_mu_;  // lookup_db is one connection
  std::mutex log_mu_;
  std::atomic<uint64_t> next_id_{1};
  mutable std::mutex server_mu_;
  std::shared_ptr<const ServerConfig> server_;  // guarded by server_mu_
  std::shared_ptr<const CaConfig> ca_;          // guarded by server_mu_
  std::shared_ptr<const Generation> gen_;       // guarded by server_mu_
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_EST_SERVICE_H_
