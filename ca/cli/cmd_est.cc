// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca serve (the EST part; the OCSP/CRL part is cmd_serve.cc),
// server-cert and enroll-code. See docs/design/enrollment.md.
#include <atomic>
#include <cstdio>
#include <ctime>
#include <deque>
#include <future>
#include <sstream>

#include "ca/cli/serve_est.h"
#include "ca/est/enroll_codes.h"
#include "ca/issuance/cert_builder.h"
#include "ca/policy/policy_violation.h"
#include "ca/server/admin_service.h"
#include "ca/server/cmp_service.h"
#include "ca/server/est_service.h"
#include "ca/server/issue_queue.h"
#include "ca/server/metrics.h"
#include "ca/server/server_config.h"
#include "ca/server/tls_context.h"
#include "ca/server/tls_frontend.h"
#include "src/base/status_macros.h"
#include "src/selftest/selftest.h"

namespace certvault::ca::cli {
namespace {

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

class ServeEstImpl : public ServeEst {
 public:
  Status Prepare(const Args& args, CaInstance& ca, const OcspResponder& responder, HttpOptions& opts);
  Status Listen(HttpServer& server) override;
  Status PrepareCmp(CaInstance& ca, const OcspResponder& responder, X509* issuing, X509* root);
  Status Reload() override;
  bool TakeCrlRequest() override { return crl_requested_.exchange(false); }
  void RunCaTasks(const CaInstance& serving, const std::function<void()>& rolled) override;
  Status SwitchTo(CaInstance& fresh) override;
  bool HasCaTasks() override {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    return !tasks_.empty();
  }
  void Stop() override {
    CloseCaTasks();
    published_.store(nullptr);
    frontend_.reset();  // waits for its connections (PeerOf is only asked while one is being handed in)
  }
  ~ServeEstImpl() override {
    Stop();
    if (log_ != nullptr && log_ != stderr) std::fclose(log_);
  }

 private:
  const CaInstance* ca_ = nullptr;
  ServerConfig server_;
  std::shared_ptr<ServerTls> tls_;
  // The first context: CMP's library context and client anchors live in it,
  // so it stays for the process's lifetime.
  std::shared_ptr<ServerTls> first_tls_;
  // Contexts replaced by Reload, with the generation that replaced them:
  // connections made with them may still be open, and their SSL_CTX borrows
  // the library context and key of these. Dropped once no TLS connection
  // uses them; CMP transactions hold their own reference (SetSigner).
  std::vector<std::pair<uint64_t, std::shared_ptr<ServerTls>>> retired_tls_;
  std::unique_ptr<CertDb> issue_db_, lookup_db_, cmp_db_, admin_db_;
  std::unique_ptr<CertDb> reload_db_;  // the reload's audit records (the serve loop's thread)
  AuditActor actor_;                   // serve's --actor
  X509* issuing_ = nullptr;            // borrowed from ca_
  CaKey* issuing_key_ = nullptr;       // borrowed from ca_
  Result<std::shared_ptr<const CaConfig>> LoadCaConfig() const;
  Status ReloadAll(std::string& out_detail);
  std::unique_ptr<IssueQueue> queue_;
  ServerMetrics metrics_;
  std::unique_ptr<EstService> service_;
  std::unique_ptr<CmpService> cmp_;  // null without a TLS key (its key signs CMP answers)
  std::unique_ptr<AdminService> admin_;  // /admin/v1/ (docs/design/roles.md)
  std::atomic<bool> crl_requested_{false};
  // The admin API's CA tasks, run by the serve loop (RunCaTasks).
  Result<std::string> QueueCaTask(CaTask task);
  void CloseCaTasks();
  bool MaySign(const OcspResponder& responder) const {
    return !rolled_over_.load() && !selftest::InErrorState() && !responder.suspended() && !responder.halted();
  }
  std::mutex tasks_mu_;
  std::deque<std::pair<CaTask, std::promise<Result<std::string>>>> tasks_;  // guarded by tasks_mu_
  bool tasks_closed_ = false;                                               // guarded by tasks_mu_
  // A key rollover through the admin API: the loaded issuing key is
  // retired; nothing more is issued with it (503) until SwitchTo succeeds.
  std::atomic<bool> rolled_over_{false};
  std::unique_ptr<TlsFrontEnd> frontend_;
  std::atomic<TlsFrontEnd*> published_{nullptr};  // frontend_ for the server's threads
  FILE* log_ = nullptr;
};

Status ServeEstImpl::Prepare(const Args& args, CaInstance& ca, const OcspResponder& responder, HttpOptions& opts) {
  ca_ = &ca;
  CV_ASSIGN_OR_RETURN(server_, LoadServerConfig(ca.config().dir, ca.config().name));
  if (args.Has("http-port")) server_.http_port = static_cast<uint32_t>(std::stoul(args.Get("http-port")));
  if (args.Has("https-port")) server_.https_port = static_cast<uint32_t>(std::stoul(args.Get("https-port")));
  if (args.Has("bind")) server_.bind = args.Get("bind");
  if (args.Has("threads")) server_.threads = static_cast<uint32_t>(std::stoul(args.Get("threads")));
  CV_ASSIGN_OR_RETURN(X509 * issuing, ca.Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * key, ca.Key(CaRole::kIssuing));
  issuing_ = issuing;
  issuing_key_ = key;
  actor_ = ActorOf(args);
  CV_ASSIGN_OR_RETURN(reload_db_, OpenCertDb(ca.config().database));
  auto root = ca.Cert(CaRole::kRoot);
  if (server_.https_port != 0) {
    CV_ASSIGN_OR_RETURN(tls_, ServerTls::Create(ca.config(), server_));
  }
  CV_ASSIGN_OR_RETURN(issue_db_, OpenCertDb(ca.config().database));
  CV_ASSIGN_OR_RETURN(lookup_db_, OpenCertDb(ca.config().database));
  queue_ = std::make_unique<IssueQueue>(ca.config(), ca.Name(CaRole::kIssuing), *key, issuing, *issue_db_, "est-server",
                                        ca.config().sign_threads);
  log_ = stderr;
  if (!server_.access_log.empty()) {
    log_ = std::fopen(server_.access_log.c_str(), "ae");
    if (log_ == nullptr) return FailedPreconditionError("cannot open the access log " + server_.access_log);
  }
  std::vector<std::pair<std::string, X509*>> retired;  // live retired issuing generations
  for (uint32_t gen : ca.LiveRetired(CaRole::kIssuing, static_cast<int64_t>(std::time(nullptr)))) {
    CV_ASSIGN_OR_RETURN(X509 * cert, ca.CertOf(CaRole::kIssuing, gen));
    retired.emplace_back(ca.NameOf(CaRole::kIssuing, gen), cert);
  }
  EstDeps deps{&ca.config(), &server_, ca.Name(CaRole::kIssuing), issuing, root.ok() ? *root : nullptr, retired,
               lookup_db_.get(), queue_.get(), &metrics_,
               [this, &responder] { return MaySign(responder); },
               [this] {
                 TlsFrontEnd* fe = published_.load();
                 return fe != nullptr ? fe->handshake_failures() : 0;
               },
               log_};
  CV_ASSIGN_OR_RETURN(service_, EstService::Create(std::move(deps)));
  CV_ASSIGN_OR_RETURN(admin_db_, OpenCertDb(ca.config().database));
  AdminDeps admin{ca.Name(CaRole::kIssuing), issuing, admin_db_.get(), queue_.get(),
                  [this, &responder] { return MaySign(responder); }, [this] { crl_requested_.store(true); },
                  &ca.config().audit};
  admin.retired = retired;
  admin.run_on_ca = [this](CaTask task) { return QueueCaTask(std::move(task)); };
  admin.reload_server = [this] { return Reload(); };
  admin.rolled_over = [this] { rolled_over_.store(true); };  // until SwitchTo
  admin_ = std::make_unique<AdminService>(std::move(admin), server_.admin);
  if (tls_ != nullptr) CV_RETURN_IF_ERROR(PrepareCmp(ca, responder, issuing, root.ok() ? *root : nullptr));
  opts.bind = server_.bind;
  opts.port = static_cast<uint16_t>(server_.http_port);
  opts.listen = server_.http_port != 0 || server_.https_port == 0;
  opts.threads = server_.threads;
  opts.max_connections = server_.max_connections;
  opts.timeout_s = server_.timeout_s;
  opts.max_request_bytes = server_.max_body_bytes;
  opts.app = [this](const HttpRequest& req, HttpReply& reply) {
    return admin_->Handle(req, reply) || (cmp_ != nullptr && cmp_->Handle(req, reply)) || service_->Handle(req, reply);
  };
  // The front end starts after the server; until then no connection is handed in.
  opts.peer_of = [this](int fd) -> std::shared_ptr<const ConnectionPeer> {
    TlsFrontEnd* fe = published_.load();
    return fe != nullptr ? fe->PeerOf(fd) : nullptr;
  };
  return OkStatus();
}

// PrepareCmp: Lightweight CMP (RFC 9483) beside EST, on both listeners
// (CMP messages are protected end to end, RFC 6712 §4). Its answers are
// signed by the TLS server key: a key of the token that signs nothing else.
Status ServeEstImpl::PrepareCmp(CaInstance& ca, const OcspResponder& responder, X509* issuing, X509* root) {
  CV_ASSIGN_OR_RETURN(cmp_db_, OpenCertDb(ca.config().database));
  CmpDeps deps;
  deps.ca = &ca.config();
  deps.server = [this] { return service_->CurrentConfig(); };
  deps.profiles = [this] { return service_->CurrentCa(); };
  deps.ca_name = ca.Name(CaRole::kIssuing);
  deps.issuing = issuing;
  deps.root = root;
  deps.db = cmp_db_.get();
  deps.queue = queue_.get();
  deps.metrics = &metrics_;
  deps.may_sign = [this, &responder] { return MaySign(responder); };
  deps.libctx = tls_->libctx();
  deps.key = tls_->key();
  deps.cert = SSL_CTX_get0_certificate(tls_->ctx());
  deps.signer_owner = tls_;
  first_tls_ = tls_;
  deps.access_log = log_;
  CV_ASSIGN_OR_RETURN(cmp_, CmpService::Create(std::move(deps)));
  std::vector<std::pair<std::string, X509*>> retired;  // their certificates still sign requests
  for (uint32_t gen : ca.LiveRetired(CaRole::kIssuing, static_cast<int64_t>(std::time(nullptr)))) {
    CV_ASSIGN_OR_RETURN(X509 * cert, ca.CertOf(CaRole::kIssuing, gen));
    retired.emplace_back(ca.NameOf(CaRole::kIssuing, gen), cert);
  }
  CV_RETURN_IF_ERROR(cmp_->SetGeneration(CmpGeneration{ca.Name(CaRole::kIssuing), issuing, root, retired}));
  return OkStatus();
}

Status ServeEstImpl::Listen(HttpServer& server) {
  if (tls_ == nullptr) return OkStatus();
  TlsFrontEndOptions fo{server_.bind, static_cast<uint16_t>(server_.https_port), server_.max_connections,
                        server_.timeout_s};
  CV_ASSIGN_OR_RETURN(frontend_, TlsFrontEnd::Create(fo, tls_->ctx(), [&server](int fd, const sockaddr* a, socklen_t n) {
                        return server.AddConnection(fd, a, n);
                      }));
  published_.store(frontend_.get());  // before the first connection can be handed in
  frontend_->Run();
  std::printf("https listening on %s:%u\n", server_.bind.c_str(), frontend_->port());
  std::fflush(stdout);
  return OkStatus();
}

// QueueCaTask: blocks the calling server thread until the serve loop ran
// `task` (at most about a tick later).
Result<std::string> ServeEstImpl::QueueCaTask(CaTask task) {
  std::future<Result<std::string>> done;
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    if (tasks_closed_) return UnavailableError("the server is stopping");
    tasks_.emplace_back(std::move(task), std::promise<Result<std::string>>());
    done = tasks_.back().second.get_future();
  }
  return done.get();
}

void ServeEstImpl::RunCaTasks(const CaInstance& serving, const std::function<void()>& rolled) {
  std::deque<std::pair<CaTask, std::promise<Result<std::string>>>> todo;
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    todo.swap(tasks_);
  }
  // The PIN source of the serving instance (serve --pin-file included).
  Result<std::unique_ptr<CaInstance>> ca =
      CaInstance::Open(serving.config().dir, true, serving.config().token.pin_file);
  std::vector<Result<std::string>> outs;
  for (auto& [task, promise] : todo) {
    Result<std::string> out = UnavailableError("CA task failed");
    try {
      out = ca.ok() ? task(**ca) : Result<std::string>(ca.status());
    } catch (const std::exception& e) {  // the server thread waiting for it gets an answer
      out = InternalError(std::string("CA task: ") + e.what());
    } catch (...) {
      out = InternalError("CA task failed");
    }
    outs.push_back(std::move(out));
  }
  if (rolled_over_.load() && rolled) rolled();  // before the answers: see ServeEst::RunCaTasks
  for (size_t i = 0; i < todo.size(); ++i) todo[i].second.set_value(std::move(outs[i]));
}

// SwitchTo: the new generation's certificates and key from `fresh`, then
// Reload (configuration with the new CRL URLs, TLS anchors from the new
// chain.pem, the issue queue's next batches), then the EST, CMP and admin
// views. On an error the previous generation stays in force.
Status ServeEstImpl::SwitchTo(CaInstance& fresh) {
  CV_ASSIGN_OR_RETURN(X509 * issuing, fresh.Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(CaKey * key, fresh.Key(CaRole::kIssuing));
  Result<X509*> root = fresh.Cert(CaRole::kRoot);
  std::vector<std::pair<std::string, X509*>> retired;
  for (uint32_t gen : fresh.LiveRetired(CaRole::kIssuing, static_cast<int64_t>(std::time(nullptr)))) {
    CV_ASSIGN_OR_RETURN(X509 * cert, fresh.CertOf(CaRole::kIssuing, gen));
    retired.emplace_back(fresh.NameOf(CaRole::kIssuing, gen), cert);
  }
  const CaInstance* old_ca = ca_;
  X509* old_issuing = issuing_;
  CaKey* old_key = issuing_key_;
  ca_ = &fresh;
  issuing_ = issuing;
  issuing_key_ = key;
  if (Status st = Reload(); !st.ok()) {
    ca_ = old_ca;
    issuing_ = old_issuing;
    issuing_key_ = old_key;
    return st;
  }
  CV_RETURN_IF_ERROR(
      service_->SetGeneration(fresh.Name(CaRole::kIssuing), issuing, root.ok() ? *root : nullptr, retired));
  if (cmp_ != nullptr) {
    CV_RETURN_IF_ERROR(cmp_->SetGeneration(
        CmpGeneration{fresh.Name(CaRole::kIssuing), issuing, root.ok() ? *root : nullptr, retired}));
  }
  admin_->SetGeneration(fresh.Name(CaRole::kIssuing), issuing, retired);
  rolled_over_.store(false);
  return OkStatus();
}

void ServeEstImpl::CloseCaTasks() {
  std::lock_guard<std::mutex> lock(tasks_mu_);
  tasks_closed_ = true;
  for (auto& [task, promise] : tasks_) promise.set_value(UnavailableError("the server is stopping"));
  tasks_.clear();
}

// LoadCaConfig: ca.toml as the CA loads it (the policy included), checked
// for a reload: what the keys, certificates and database are bound to is
// unchanged (CheckConfigChange), and every issuing profile makes a
// certificate template with this CA's certificate. Nothing is swapped here.
Result<std::shared_ptr<const CaConfig>> ServeEstImpl::LoadCaConfig() const {
  CV_ASSIGN_OR_RETURN(CaConfig next, LoadConfig(ca_->config().dir));
  // What CaInstance::Open does: the CRL URLs of the generation issuing now.
  next.crl_url = GenerationUrl(next.crl_url, ca_->Generation(CaRole::kIssuing));
  next.delta_crl_url = GenerationUrl(next.delta_crl_url, ca_->Generation(CaRole::kIssuing));
  next.root_crl_url = GenerationUrl(next.root_crl_url, ca_->Generation(CaRole::kRoot));
  CV_RETURN_IF_ERROR(CheckConfigChange(ca_->config(), next));
  for (const auto& [name, profile] : next.profiles) {
    if (profile.is_ca || profile.internal) continue;
    Result<CertTemplate> tmpl = CertTemplate::Create(profile, next, issuing_);
    if (!tmpl.ok()) return InvalidArgumentError("profile " + name + ": " + std::string(tmpl.status().message()));
  }
  return std::make_shared<const CaConfig>(std::move(next));
}

// Reload: ReloadAll, recorded in the audit chain ("config-reload", or
// "config-reload-failed" with the reason: the old configuration stays; a
// ca.toml that contradicts the policy is a "policy-violation", alerted).
Status ServeEstImpl::Reload() {
  std::string detail;
  Status st = ReloadAll(detail);
  std::string ca = ca_->Name(CaRole::kIssuing);
  bool violation = IsPolicyContradiction(st);
  AuditEvent e = st.ok()     ? MakeAuditEvent(actor_, "config-reload", ca, "ca.toml", detail)
                 : violation ? PolicyViolationEvent(actor_, ca, "ca.toml", PolicyRuleOf(st, "policy.toml"), st)
                             : MakeAuditEvent(actor_, "config-reload-failed", ca, "ca.toml", std::string(st.message()),
                                              std::string(StatusCodeName(st.code())));
  Status recorded = reload_db_->AddAudit(e);
  if (!recorded.ok()) std::fprintf(stderr, "certvault-ca: reload not audited: %s\n", std::string(recorded.message()).c_str());
  if (violation) (void)AlertPolicyViolation(ca_->config().audit, actor_, ca, PolicyRuleOf(st, "policy.toml"), st);
  return st;
}

// ReloadAll: [server], the TLS certificate and the CA configuration's
// profiles, all checked before any is swapped in.
Status ServeEstImpl::ReloadAll(std::string& out_detail) {
  CV_ASSIGN_OR_RETURN(ServerConfig fresh, LoadServerConfig(ca_->config().dir, ca_->config().name));
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const CaConfig> ca, LoadCaConfig());
  // Bound at start: the listeners, the thread pool, the limits, the log.
  fresh.bind = server_.bind;
  fresh.http_port = server_.http_port;
  fresh.https_port = server_.https_port;
  fresh.threads = server_.threads;
  fresh.max_connections = server_.max_connections;
  fresh.max_body_bytes = server_.max_body_bytes;
  fresh.timeout_s = server_.timeout_s;
  fresh.access_log = server_.access_log;
  std::shared_ptr<ServerTls> tls;
  if (tls_ != nullptr) {
    CV_ASSIGN_OR_RETURN(tls, ServerTls::Create(ca_->config(), fresh));
  }
  service_->SetServerConfig(std::make_shared<const ServerConfig>(fresh));
  admin_->SetConfig(fresh.admin);
  // Profiles: requests that start from now on, and the batches the issue
  // worker takes next; a batch being signed finishes with the old ones.
  queue_->Use(IssueQueue::Setup{ca, ca_->Name(CaRole::kIssuing), issuing_key_, issuing_});
  service_->SetCaConfig(ca);
  out_detail = "sha256 " + ca->config_sha256 + "; profiles";
  for (const auto& [name, profile] : ca->profiles) out_detail += " " + name;
  if (tls != nullptr) {
    uint64_t generation = frontend_ != nullptr ? frontend_->SetContext(tls->ctx()) : 0;
    if (cmp_ != nullptr) cmp_->SetSigner(tls->key(), SSL_CTX_get0_certificate(tls->ctx()), tls);
    retired_tls_.emplace_back(generation, std::move(tls_));
    tls_ = std::move(tls);
  }
  if (frontend_ != nullptr) {
    uint64_t oldest = frontend_->OldestGenerationInUse();
    std::erase_if(retired_tls_, [oldest](const auto& r) { return r.first <= oldest; });
  }
  server_ = std::move(fresh);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<ServeEst>> PrepareServeEst(const Args& args, CaInstance& ca, const OcspResponder& responder,
                                                  HttpOptions& opts) {
  auto est = std::make_unique<ServeEstImpl>();
  CV_RETURN_IF_ERROR(est->Prepare(args, ca, responder, opts));
  return std::unique_ptr<ServeEst>(std::move(est));
}

int CmdServerCert(Args& args) {
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  CaInstance& ca = **inst;
  auto server = LoadServerConfig(ca.config().dir, ca.config().name);
  if (!server.ok()) return Fail(server.status());
  std::vector<std::string> sans = SplitComma(args.Get("san", "IP:127.0.0.1"));
  Status st = ca.IssueServerCert(server->tls_key_label, sans, server->tls_cert, ActorOf(args));
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "TLS server certificate written to %s (key '%s' in the token)\n", server->tls_cert.c_str(),
               server->tls_key_label.c_str());
  return 0;
}

int CmdEnrollCode(Args& args) {
  auto inst = Open(args, false);
  if (!inst.ok()) return Fail(inst.status());
  CaInstance& ca = **inst;
  auto server = LoadServerConfig(ca.config().dir, ca.config().name);
  if (!server.ok()) return Fail(server.status());
  std::string profile = args.Get("profile");
  const auto& allowed = server->enroll_code_profiles;
  if (std::find(allowed.begin(), allowed.end(), profile) == allowed.end()) {
    return Fail(InvalidArgumentError("profile '" + profile + "' is not in [server] enroll_code_profiles"));
  }
  int64_t hours = args.Has("hours") ? std::stoll(args.Get("hours")) : server->enroll_code_hours;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  est::EnrollCodes codes(ca.config().dir, ca.config().database);
  auto code = codes.Create(profile, hours * 3600, now, args.Has("cmp"));
  if (!code.ok()) return Fail(code.status());
  Status st = ca.db().AddAudit(MakeAuditEvent(ActorOf(args), "enroll-code", ca.Name(CaRole::kIssuing), code->id,
                                "one-time enrollment code for profile " + profile));
  if (!st.ok()) return Fail(st);
  std::string_view password = code->password.AsStringView(SecretAccess::Get());
  std::printf("id: %s\npassword: %.*s\nexpires: %lld\n", code->id.c_str(), static_cast<int>(password.size()),
              password.data(), static_cast<long long>(code->expires));  // NOLINT(runtime/int)
  return 0;
}

}  // namespace certvault::ca::cli
