// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca ocsp serve: the OCSP responder and CRL download over HTTP,
// plus (with --crl-interval) scheduled full and delta CRL generation. The
// main thread polls the database once a second: new revocations flush the
// OCSP cache, and the served CRLs follow the newest stored ones; each
// scheduled run also retires the generations whose certificate has expired
// (RetireExpired, as `certvault-ca crl` does). The
// power-on self-tests rerun every [server] selftest_interval_s; in the
// self-test error state nothing is signed any more (docs/design/selftest.md).
// After a key rollover (the admin API's, or an offline one and SIGHUP) the
// loop switches everything to the new generation without a restart
// (SwitchIfRolled; docs/design/ca.md "Switching generations while serving").
#include <sys/stat.h>

#include <csignal>
#include <map>
#include <set>
#include <cstdio>
#include <mutex>
#include <thread>

#include "ca/cli/cli.h"
#include "ca/crl/crl_service.h"
#include "ca/cli/serve_est.h"
#include "ca/http/http_server.h"
#include "src/base/status_macros.h"
#include "src/selftest/periodic.h"
#include "src/selftest/selftest.h"

namespace certvault::ca::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_reload = 0;
void OnSignal(int) { g_stop = 1; }
void OnHangup(int) { g_reload = 1; }

// Reload: after SIGHUP, `est` re-reads its configuration; a refused one is
// logged and the running one stays.
void Reload(ServeEst* est) {
  if (est == nullptr) {
    std::fprintf(stderr, "certvault-ca: SIGHUP: nothing to reload (no EST listener)\n");
    return;
  }
  Status st = est->Reload();
  if (st.ok()) {
    std::fprintf(stderr, "certvault-ca: configuration reloaded\n");
  } else {
    std::fprintf(stderr, "certvault-ca: reload refused, the previous configuration stays: %s\n",
                 std::string(st.message()).c_str());
  }
}

void Say(const std::string& text) { std::fprintf(stderr, "certvault-ca: %s\n", text.c_str()); }

struct CrlCache {
  std::mutex mu;
  std::map<std::string, Bytes> by_name;  // "full", "delta", "full-p3", ...
};

// RefreshCrls: the newest stored CRLs of every key generation still at
// work, by the name they are served under ("full", "delta-p3", "full-g2",
// "root", "root-g2", ...; see GenerationUrl).
void RefreshCrls(CertDb& db, CaInstance& inst, CrlCache& cache) {
  const CaConfig& cfg = inst.config();
  uint32_t parts = cfg.crl_partitions;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::map<std::string, Bytes> fresh;
  std::vector<uint32_t> roots = inst.LiveRetired(CaRole::kRoot, now);
  roots.push_back(inst.Generation(CaRole::kRoot));
  for (uint32_t gen : roots) {
    if (auto arl = db.LatestCrl(inst.NameOf(CaRole::kRoot, gen), false, 0); arl.ok()) {
      fresh["root" + GenerationSuffix(gen)] = std::move(arl->der);
    }
  }
  std::vector<uint32_t> gens = inst.LiveRetired(CaRole::kIssuing, now);
  gens.push_back(inst.Generation(CaRole::kIssuing));
  for (uint32_t gen : gens) {
    for (uint32_t p = 0; p < parts; ++p) {
      for (bool delta : {false, true}) {
        auto crl = db.LatestCrl(inst.NameOf(CaRole::kIssuing, gen), delta, p);
        if (!crl.ok()) continue;
        std::string name = std::string(delta ? "delta" : "full") + GenerationSuffix(gen) +
                           (parts > 1 ? "-p" + std::to_string(p) : "");
        fresh[name] = std::move(crl->der);
      }
    }
  }
  std::lock_guard<std::mutex> lock(cache.mu);
  cache.by_name = std::move(fresh);
}

// IssuingCrls: a full and a delta CRL per partition of issuing generation `gen`.
Status IssuingCrls(CaInstance& inst, CertDb& db, uint32_t gen, const AuditActor& actor) {
  const CaConfig& cfg = inst.config();
  CV_ASSIGN_OR_RETURN(X509 * cert, inst.CertOf(CaRole::kIssuing, gen));
  CV_ASSIGN_OR_RETURN(CaKey * key, inst.KeyOf(CaRole::kIssuing, gen));
  std::string ca = inst.NameOf(CaRole::kIssuing, gen);
  for (uint32_t p = 0; p < cfg.crl_partitions; ++p) {
    CrlRequest full{ca, cert, false, p, cfg.crl_partitions, cfg.crl_next_update_hours,
                    inst.CrlUrlOf(CaRole::kIssuing, gen), inst.DeltaCrlUrlOf(gen), 0,
                    [&inst, &ca, p](int64_t number) { return inst.CheckCrlNumber(ca, p, number); }};
    CV_ASSIGN_OR_RETURN(CrlRecord full_rec, GenerateCrl(db, *key, full, actor));
    CV_RETURN_IF_ERROR(inst.RecordCrl(full_rec));
    CrlRequest delta = full;
    delta.delta = true;
    delta.next_update_hours = cfg.delta_next_update_hours;
    CV_ASSIGN_OR_RETURN(CrlRecord delta_rec, GenerateCrl(db, *key, delta, actor));
    CV_RETURN_IF_ERROR(inst.RecordCrl(delta_rec));
  }
  return OkStatus();
}

// RootArl: the CRL (ARL) of root generation `gen`.
Status RootArl(CaInstance& inst, CertDb& db, uint32_t gen, const AuditActor& actor) {
  CV_ASSIGN_OR_RETURN(X509 * root_cert, inst.CertOf(CaRole::kRoot, gen));
  CV_ASSIGN_OR_RETURN(CaKey * root_key, inst.KeyOf(CaRole::kRoot, gen));
  std::string root = inst.NameOf(CaRole::kRoot, gen);
  CrlRequest arl{root, root_cert, false, 0, 1, inst.config().crl_next_update_hours, "", "", 0,
                 [&inst, &root](int64_t number) { return inst.CheckCrlNumber(root, 0, number); }};
  CV_ASSIGN_OR_RETURN(CrlRecord arl_rec, GenerateCrl(db, *root_key, arl, actor));
  return inst.RecordCrl(arl_rec);
}

// ScheduledCrls: the CRLs of every key generation still at work; the
// root's CRL (ARL) only when the root key is in the token (not with an
// external root): it covers the issuing CA certificates.
Status ScheduledCrls(CaInstance& inst, CertDb& db, const AuditActor& actor) {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<uint32_t> gens = inst.LiveRetired(CaRole::kIssuing, now);
  gens.push_back(inst.Generation(CaRole::kIssuing));
  for (uint32_t gen : gens) CV_RETURN_IF_ERROR(IssuingCrls(inst, db, gen, actor));
  std::vector<uint32_t> roots = inst.LiveRetired(CaRole::kRoot, now);
  roots.push_back(inst.Generation(CaRole::kRoot));
  for (uint32_t gen : roots) {
    if (!inst.CertOf(CaRole::kRoot, gen).ok() || !inst.KeyOf(CaRole::kRoot, gen).ok()) continue;
    CV_RETURN_IF_ERROR(RootArl(inst, db, gen, actor));
  }
  return OkStatus();
}

// RetireExpired: what `certvault-ca crl` does on a full run (cmd_revoke.cc,
// docs/design/ca.md "Retirement"): each retired generation whose
// certificate has expired signs its last CRLs, then its keys are destroyed
// ("retire" in the audit chain); quorum-protected keys stay, with a
// warning. The keys are destroyed through an instance of its own, as the
// admin API's tasks do: the serving one's key objects stay valid for the
// threads that hold them, never a dangling key); `front` then withdraws a
// retired issuing generation's OCSP responder, which answers unauthorized
// from then on (OcspResponder::Withdraw). `out_done` holds the
// generations dealt with in this process, so each is handled once; a
// failure is retried at the next run.
void RetireExpired(CaInstance& ca, CertDb& db, const AuditActor& actor, OcspResponder& front,
                   std::set<std::pair<int, uint32_t>>& out_done) {
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (CaRole role : {CaRole::kIssuing, CaRole::kRoot}) {
    Result<std::vector<uint32_t>> expired = ca.ExpiredWithKeys(role, now);
    if (!expired.ok()) return Say("retirement: " + std::string(expired.status().message()));
    for (uint32_t gen : *expired) {
      if (out_done.count({static_cast<int>(role), gen}) != 0) continue;
      Status st = role == CaRole::kIssuing ? IssuingCrls(ca, db, gen, actor) : RootArl(ca, db, gen, actor);
      if (st.ok()) {
        Result<std::unique_ptr<CaInstance>> own = CaInstance::Open(ca.config().dir, true, ca.config().token.pin_file);
        st = own.ok() ? (*own)->RetireGeneration(role, gen, now, actor) : own.status();
      }
      std::string what = std::string(role == CaRole::kRoot ? "root" : "issuing") + " generation " + std::to_string(gen);
      if (st.code() == StatusCode::kPermissionDenied) {  // quorum-protected: the CRLs stand, the keys wait
        Say(what + " has expired but keeps its keys: " + std::string(st.message()));
      } else if (st.ok()) {
        if (role == CaRole::kIssuing) front.Withdraw(ca.NameOf(CaRole::kIssuing, gen));
        Say("retired " + what + ": its certificate has expired, its last CRL is signed, its keys are destroyed");
      } else {
        Say("retirement of " + what + ": " + std::string(st.message()));
        continue;
      }
      out_done.insert({static_cast<int>(role), gen});
    }
  }
}

// SignerWatch: which OCSP signer the responder uses.
struct SignerWatch {
  timespec mtime{};             // of ocsp.pem when last loaded
  bool on_issuing_key = false;  // the delegated signer was revoked
};

std::string SerialOf(X509* cert) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (bn == nullptr) return "";
  Bytes serial(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), serial.data());
  return HexEncode(serial);
}

// WatchSigner: a new ocsp.pem (`ocsp rotate` in another process) is loaded;
// a revoked OCSP signer never signs again: the issuing CA key signs instead
// (RFC 6960 §4.2.2.2) until a new signer is rotated in.
// `responder` answers for the current issuing generation; `front` is the
// HTTP server's, whose suspension covers every generation.
void WatchSigner(CaInstance& ca, CertDb& db, OcspResponder& responder, OcspResponder& front, SignerWatch& w) {
  struct stat st;
  if (stat(ca.CertPath(CaRole::kOcsp).c_str(), &st) == 0 &&
      (st.st_mtim.tv_sec != w.mtime.tv_sec || st.st_mtim.tv_nsec != w.mtime.tv_nsec)) {
    bool first = w.mtime.tv_sec == 0 && w.mtime.tv_nsec == 0;
    w.mtime = st.st_mtim;
    if (!first) {
      ca.ReloadOcspSigner();
      auto cert = ca.Cert(CaRole::kOcsp);
      auto key = ca.Key(CaRole::kOcsp);
      Status used = !cert.ok() ? cert.status() : !key.ok() ? key.status() : responder.UseSigner(*cert, **key);
      if (used.ok()) w.on_issuing_key = false;
      Say(used.ok() ? "new OCSP signer loaded" : "new OCSP signer: " + std::string(used.message()));
    }
  }
  if (w.on_issuing_key) return;
  auto rec = db.FindBySerial(ca.Name(CaRole::kIssuing), SerialOf(responder.signer_cert()));
  if (!rec.ok() || !rec->revoked) return;
  auto issuing = ca.Cert(CaRole::kIssuing);
  auto key = ca.Key(CaRole::kIssuing);
  Status used = !issuing.ok() ? issuing.status() : !key.ok() ? key.status() : responder.UseSigner(*issuing, **key);
  if (used.ok()) w.on_issuing_key = true;
  front.SetSuspended(!used.ok());  // never the revoked signer
  Say(used.ok() ? "the OCSP signer is revoked: the issuing CA signs responses ('certvault-ca ocsp rotate' makes a new one)"
                : "the OCSP signer is revoked and the issuing CA key failed: " + std::string(used.message()));
}

// The signing time is recorded in the token this often (seconds).
constexpr long kRecordSigningTimeTicks = 60;  // NOLINT(runtime/int)

// ClockOk: CaInstance::CheckClock; while it fails, the responder answers
// tryLater and no CRL is signed. Each failing spell is audited once, as
// "clock-refused" of "serve" (`out_failing`: the previous tick failed).
bool ClockOk(CaInstance& ca, OcspResponder& responder, long tick, CertDb& db,  // NOLINT(runtime/int)
             const AuditActor& actor, bool& out_failing) {
  Status st = ca.CheckClock();
  if (st.ok() && tick % kRecordSigningTimeTicks == 0) st = ca.RecordSigningTime();
  responder.SetSuspended(!st.ok());
  if (!st.ok()) std::fprintf(stderr, "certvault-ca: %s\n", std::string(st.message()).c_str());
  if (!st.ok() && !out_failing) {
    Status recorded = db.AddAudit(MakeAuditEvent(actor, "clock-refused", ca.Name(CaRole::kIssuing), "serve",
                                                 std::string(st.message()), std::string(StatusCodeName(st.code()))));
    if (!recorded.ok()) Say("the clock refusal is not audited: " + std::string(recorded.message()));
  }
  out_failing = !st.ok();
  return st.ok();
}

// SelfTestsOk: false once the process is in the self-test error state (a
// periodic rerun or a pairwise-consistency test failed). The responder then
// halts for good (it also checks at each request) and no CRL is signed; the
// CRLs signed before stay downloadable. Said once.
bool SelfTestsOk(OcspResponder& responder, bool& out_said) {
  if (!selftest::InErrorState()) return true;
  responder.Halt();
  if (!out_said) Say("self-test error state: OCSP requests get internalError and no CRL is signed until a restart");
  out_said = true;
  return false;
}

// Serving: what the serve loop works with. After a key rollover it moves
// to an instance opened anew (SwitchIfRolled). Instances and responders are
// never freed while serving: the threads of requests that started before a
// switch still borrow their certificates and keys, and a rollover is rare
// (one per crypto-period); each costs one token session and two database
// connections until the process ends.
struct Serving {
  std::vector<std::unique_ptr<CaInstance>> instances;   // opened by switches (cmd_serve owns the first)
  CaInstance* ca = nullptr;                             // the current generation's
  OcspResponder* front = nullptr;                       // the HTTP server's: routes each request to its generation
  OcspResponder* current = nullptr;                     // the current issuing generation's (front, or one added)
  std::vector<std::unique_ptr<CertDb>>* dbs = nullptr;  // the responders' connections
  SignerWatch watch;
};

// NewGenerationResponder: the OCSP responder of `fresh`'s current issuing
// generation, signed by its OCSP signer, on a connection of its own.
Result<std::unique_ptr<OcspResponder>> NewGenerationResponder(CaInstance& fresh, Serving& s) {
  CV_ASSIGN_OR_RETURN(X509 * issuing, fresh.Cert(CaRole::kIssuing));
  CV_ASSIGN_OR_RETURN(X509 * signer, fresh.Cert(CaRole::kOcsp));
  CV_ASSIGN_OR_RETURN(CaKey * key, fresh.Key(CaRole::kOcsp));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CertDb> db, OpenCertDb(fresh.config().database));
  CV_ASSIGN_OR_RETURN(std::unique_ptr<OcspResponder> r,
                      OcspResponder::Create(*db, fresh.Name(CaRole::kIssuing), issuing, signer, *key,
                                            fresh.config().ocsp_validity_minutes));
  s.dbs->push_back(std::move(db));
  return r;
}

// SwitchIfRolled: when DIR/generations names other generations than the
// serving instance (a rollover committed, by the admin API or offline), the
// new generation is opened and prepared to sign off to the side, EST/CMP/
// admin move to it (ServeEst::SwitchTo), its OCSP responder joins the
// front one, and the loop's CRLs and signer watch follow it. True when it
// switched; on an error nothing changed (retried at the next SIGHUP or
// rollover).
Result<bool> SwitchIfRolled(Serving& s, CertDb& db, ServeEst* est) {
  CV_ASSIGN_OR_RETURN(KeyGenerations gens, LoadGenerations(s.ca->config().dir));
  if (gens.issuing == s.ca->Generation(CaRole::kIssuing) && gens.root == s.ca->Generation(CaRole::kRoot)) return false;
  CV_ASSIGN_OR_RETURN(std::unique_ptr<CaInstance> fresh,
                      CaInstance::Open(s.ca->config().dir, true, s.ca->config().token.pin_file));
  CV_RETURN_IF_ERROR(fresh->PrepareToSign());
  CV_ASSIGN_OR_RETURN(std::unique_ptr<OcspResponder> responder, NewGenerationResponder(*fresh, s));
  if (est != nullptr) CV_RETURN_IF_ERROR(est->SwitchTo(*fresh));
  s.current = responder.get();
  s.front->AddRetired(std::move(responder));  // routed by issuer: each generation answers for its own
  s.ca = fresh.get();
  s.instances.push_back(std::move(fresh));
  s.watch = SignerWatch{};
  WatchSigner(*s.ca, db, *s.current, *s.front, s.watch);  // records ocsp.pem's time
  Say("now issuing with key generation " + std::to_string(gens.issuing) + " (" + s.ca->Name(CaRole::kIssuing) +
      "); the previous generations answer OCSP and sign CRLs for what they issued");
  return true;
}

// Switch: SwitchIfRolled, logged.
bool Switch(Serving& s, CertDb& db, ServeEst* est) {
  Result<bool> switched = SwitchIfRolled(s, db, est);
  if (!switched.ok()) Say("switch to the new key generation failed: " + std::string(switched.status().message()));
  return switched.ok() && *switched;
}

// PollLoop: once a second until SIGTERM/SIGINT: a reload after SIGHUP, the self-test state, the
// clock check, scheduled CRLs every `interval` seconds (0 = never), OCSP
// cache invalidation, served CRLs.
void PollLoop(Serving& s, CertDb& db, CrlCache& crls, long interval,  // NOLINT(runtime/int)
              const AuditActor& actor, ServeEst* est) {
  bool error_state_said = false;
  bool clock_failing = false;                  // ClockOk: audited once per failing spell
  std::set<std::pair<int, uint32_t>> retired;  // (role, generation) retired or kept, see RetireExpired
  OcspResponder& responder = *s.front;
  for (long tick = 0; !g_stop; ++tick) {  // NOLINT(runtime/int)
    if (g_reload) {
      g_reload = 0;
      if (!Switch(s, db, est)) Reload(est);  // a switch reloads the configuration too
    }
    CaInstance& ca = *s.ca;
    bool may_sign = SelfTestsOk(responder, error_state_said) && ClockOk(ca, responder, tick, db, actor, clock_failing);
    if (may_sign) WatchSigner(ca, db, *s.current, responder, s.watch);
    bool asked = est != nullptr && est->TakeCrlRequest();  // the admin API's publish-crl
    if (may_sign && (asked || (interval > 0 && tick % interval == 0))) {
      Status st = ScheduledCrls(ca, db, actor);
      if (!st.ok()) std::fprintf(stderr, "certvault-ca: scheduled CRL: %s\n", std::string(st.message()).c_str());
      if (st.ok()) RetireExpired(ca, db, actor, responder, retired);
    }
    Status st = responder.Poll();
    if (!st.ok()) std::fprintf(stderr, "certvault-ca: poll: %s\n", std::string(st.message()).c_str());
    RefreshCrls(db, ca, crls);
    for (int i = 0; i < 10 && !g_stop && !g_reload; ++i) {
      if (est != nullptr && est->HasCaTasks()) {
        // The admin API's work on the CA, one at a time, between the loop's
        // own; a rollover among it is switched to before it is answered.
        est->RunCaTasks(ca, [&s, &db, est] { (void)Switch(s, db, est); });
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

// AddRetiredResponders: after a key rollover, the retired issuing
// generations whose certificate has not expired answer OCSP for their
// certificates, each signed by that generation's OCSP signer (its own
// database connection: a responder's lookups never share one).
Status AddRetiredResponders(CaInstance& ca, OcspResponder& responder, std::vector<std::unique_ptr<CertDb>>& dbs) {
  for (uint32_t gen : ca.LiveRetired(CaRole::kIssuing, static_cast<int64_t>(std::time(nullptr)))) {
    CV_ASSIGN_OR_RETURN(X509 * issuing, ca.CertOf(CaRole::kIssuing, gen));
    CV_ASSIGN_OR_RETURN(X509 * signer, ca.CertOf(CaRole::kOcsp, gen));
    CV_ASSIGN_OR_RETURN(CaKey * key, ca.KeyOf(CaRole::kOcsp, gen));
    CV_ASSIGN_OR_RETURN(std::unique_ptr<CertDb> db, OpenCertDb(ca.config().database));
    CV_ASSIGN_OR_RETURN(std::unique_ptr<OcspResponder> r,
                        OcspResponder::Create(*db, ca.NameOf(CaRole::kIssuing, gen), issuing, signer, *key,
                                              ca.config().ocsp_validity_minutes));
    dbs.push_back(std::move(db));
    responder.AddRetired(std::move(r));
  }
  return OkStatus();
}

}  // namespace

int CmdServe(Args& args) {
  long interval = std::stol(args.Get("crl-interval", "0"));  // NOLINT(runtime/int) range-checked by the parser
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  CaInstance& ca = **inst;
  auto issuing = ca.Cert(CaRole::kIssuing);
  auto ocsp_cert = ca.Cert(CaRole::kOcsp);
  auto ocsp_key = ca.Key(CaRole::kOcsp);
  auto issuing_key = ca.Key(CaRole::kIssuing);
  for (const Status* st : {&issuing.status(), &ocsp_cert.status(), &ocsp_key.status(), &issuing_key.status()}) {
    if (!st->ok()) return Fail(*st);
  }
  // Separate connections: the responder's lookups and the poller never share one.
  auto poll_db = OpenCertDb(ca.config().database);
  if (!poll_db.ok()) return Fail(poll_db.status());
  std::vector<std::unique_ptr<CertDb>> retired_dbs;  // outlive the responders that use them
  Serving serving;  // after a rollover, its instances outlive the responders that borrow their keys
  auto responder = OcspResponder::Create(ca.db(), ca.Name(CaRole::kIssuing), *issuing, *ocsp_cert, **ocsp_key,
                                         ca.config().ocsp_validity_minutes);
  if (!responder.ok()) return Fail(responder.status());
  (*responder)->SetErrorStateCheck(&selftest::InErrorState);
  if (Status st = AddRetiredResponders(ca, **responder, retired_dbs); !st.ok()) return Fail(st);
  // The power-on tests ran before this command; from now on they rerun here.
  selftest::PeriodicSelfTest periodic(std::chrono::seconds(ca.config().selftest_interval_s));
  serving.ca = &ca;
  serving.front = responder->get();
  serving.current = responder->get();
  serving.dbs = &retired_dbs;
  WatchSigner(ca, **poll_db, **responder, **responder, serving.watch);  // before the first answer
  CrlCache crls;
  RefreshCrls(**poll_db, ca, crls);
  HttpOptions opts;
  opts.bind = args.Get("bind", "127.0.0.1");
  opts.ocsp_path = OcspPathOf(ca.config().ocsp_url);
  opts.port = static_cast<uint16_t>(std::stoul(args.Get("port", "0")));
  opts.threads = static_cast<uint32_t>(std::stoul(args.Get("threads", "2")));
  std::unique_ptr<ServeEst> est;  // `serve`: EST over TLS beside OCSP/CRL
  if (args.Has("serve")) {
    auto prepared = PrepareServeEst(args, ca, **responder, opts);
    if (!prepared.ok()) return Fail(prepared.status());
    est = std::move(*prepared);
  }
  auto server = HttpServer::Start(opts, **responder, [&crls](const std::string& kind) -> Result<Bytes> {
    std::lock_guard<std::mutex> lock(crls.mu);
    auto it = crls.by_name.find(kind);
    if (it == crls.by_name.end()) return NotFoundError("no CRL");
    return it->second;
  });
  if (!server.ok()) return Fail(server.status());
  if (est != nullptr) {
    if (Status st = est->Listen(**server); !st.ok()) return Fail(st);
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGHUP, OnHangup);
  std::printf("listening on %s:%u\n", opts.bind.c_str(), (*server)->port());
  std::fflush(stdout);
  PollLoop(serving, **poll_db, crls, interval, ActorOf(args), est.get());
  if (est != nullptr) est->Stop();  // no connection is handed to the server while it stops
  server->reset();
  OcspStats s = (*responder)->stats();
  std::fprintf(stderr, "served %llu OCSP requests (%llu from cache, %llu signed)\n",
               static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.cache_hits),  // NOLINT
               static_cast<unsigned long long>(s.signatures));                                            // NOLINT
  return 0;
}

int CmdOcspRotate(Args& args) {
  auto inst = OpenForSigning(args);
  if (!inst.ok()) return Fail(inst.status());
  Status st = (*inst)->RotateOcspSigner(ActorOf(args));
  if (!st.ok()) return Fail(st);
  std::fprintf(stderr, "new OCSP signer: ocsp.pem (the previous one is destroyed and revoked as superseded)\n");
  return 0;
}

}  // namespace certvault::ca::cli
