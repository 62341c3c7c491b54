// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ServeEst: what `certvault-ca serve` adds to `ocsp serve` (cmd_est.cc):
// the [server] configuration, the EST service on the plain server's
// request path, and the TLS front end that feeds it.
#ifndef CERTVAULT_CA_CLI_SERVE_EST_H_
#define CERTVAULT_CA_CLI_SERVE_EST_H_

#include <functional>
#include <memory>

#include "ca/cli/cli.h"
#include "ca/http/http_server.h"

namespace certvault::ca::cli {

class ServeEst {
 public:
  virtual ~ServeEst() = default;
  // Listen: starts the TLS listener, handing its connections to `server`.
  virtual Status Listen(HttpServer& server) = 0;
  // Reload (SIGHUP, admin API config apply): re-reads [server] of ca.toml
  // (authorize table, client_anchors, default_profile, enroll_code_*
  // settings), the TLS server certificate, and the CA's profiles with the
  // issuance settings of [ca] (LoadConfig: the policy applies). Open
  // connections keep working; new requests get the new settings and
  // profiles (the issue worker's next batch, requests already queued
  // included; a batch being signed finishes with the old), new connections
  // the new certificate and anchors. Settings bound at start (bind, ports,
  // threads, limits, access_log; OCSP and CRL settings; [audit]) need a
  // restart, and what the keys are bound to cannot change
  // (CheckConfigChange). An error (unreadable ca.toml, a profile that does
  // not load or contradicts the policy, a certificate that does not load)
  // changes nothing: the old configuration stays in force. Both outcomes
  // are audited ("config-reload", "config-reload-failed").
  virtual Status Reload() = 0;
  // TakeCrlRequest: whether the admin API asked for CRLs since the last
  // call (the serve loop signs them: it owns the CA instance).
  virtual bool TakeCrlRequest() = 0;
  // RunCaTasks: runs what the admin API queued (user add, configuration,
  // rollover, audit verification; admin_ca_tasks.cc) on an instance of
  // its own, opened like `serving` (its own database connection and token
  // session): the serving instance is shared with the OCSP responder and
  // the issue queue, and a task must not change it under them.
  // After a task that made a new key generation (rollover), `rolled`
  // runs before any waiting admin request is answered: the serve loop
  // switches to the new generation there (SwitchTo), so the admin API's
  // answer means the server already issues with it.
  // REQUIRES: the serve loop's thread (tasks run one at a time, between
  // SIGHUP reloads).
  virtual void RunCaTasks(const CaInstance& serving, const std::function<void()>& rolled) = 0;
  // SwitchTo: after a key rollover (by the admin API, or offline and then
  // SIGHUP), EST, CMP, the admin API, the issue queue and the TLS anchors
  // move to `fresh`, an instance opened and prepared to sign after the
  // rollover committed: everything is loaded and checked first (Reload
  // included), then published; requests that started before finish with
  // the old generation, new ones use the new. An error changes nothing.
  // REQUIRES: the serve loop's thread; `fresh` outlives this object.
  virtual Status SwitchTo(CaInstance& fresh) = 0;
  // HasCaTasks: whether RunCaTasks has work (the loop then stops sleeping).
  virtual bool HasCaTasks() = 0;
  // Stop: no new TLS connections; ends the open ones (before `server` goes);
  // queued and later CA tasks fail with kUnavailable.
  virtual void Stop() = 0;
};

// PrepareServeEst: reads [server], loads the TLS key through certvault's
// provider, and fills `opts` (listening socket, limits, application
// handler). Enrollments get 503 while `responder` is suspended (the CA's
// clock failed its checks) or halted (self-test error state), the states
// the poll loop of cmd_serve.cc maintains. REQUIRES: `ca` prepared to sign;
// `ca` and `responder` outlive the result.
Result<std::unique_ptr<ServeEst>> PrepareServeEst(const Args& args, CaInstance& ca, const OcspResponder& responder,
                                                  HttpOptions& opts);

}  // namespace certvault::ca::cli

#endif  // CERTVAULT_CA_CLI_SERVE_EST_H_
