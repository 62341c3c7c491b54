// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/est_service.h"

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "ca/issuance/csr.h"
#include "ca/server/est_serverkeygen.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"

namespace certvault::ca {

struct EstService::Ctx {
  uint64_t id = 0;
  std::string op = "other";
  std::string profile, client, serial, reason;
  bool issued = false;
  bool answered = false;  // the reply holds the answer
  bool deferred = false;  // the issue worker answers (IssueDeferred)
  std::string address, method;  // of the request, for the log
  bool tls = false;
  bool keygen = false;  // serverkeygen: the CA makes the key (est_serverkeygen.h)
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

namespace {

// EstActor: the audit actor of an EST request: the client's certificate
// subject and/or enrollment code id, its address, the request number.
AuditActor EstActor(const EstService::Ctx& ctx) {
  AuditActor a;
  a.identity = ctx.client.empty() ? "est:anonymous" : "est:" + ctx.client;
  a.role = "est-client";
  a.source = ctx.address;
  a.request_id = "est-" + std::to_string(ctx.id);
  return a;
}

void Answer(HttpReply& r, EstService::Ctx& ctx, unsigned int code, const std::string& text) {
  r.status = code;
  r.content_type = "text/plain; charset=utf-8";
  r.body.clear();
  if (code != 204) {  // RFC 9110 §15.3.5: a 204 response has no content
    r.body.assign(text.begin(), text.end());
    r.body.push_back('\n');
  }
  if (code >= 400) ctx.reason = text;
  ctx.answered = true;
}

std::string NameText(const X509_NAME* name) {
  char buf[512];
  if (X509_NAME_oneline(name, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

std::string SerialHex(X509* cert) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (bn == nullptr) return "";
  Bytes serial(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), serial.data());
  return HexEncode(serial);
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

unsigned int CodeOf(const Status& st) {
  switch (st.code()) {
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnimplemented: return 501;
    default: return 503;
  }
}

}  // namespace

void EstService::SetServerConfig(std::shared_ptr<const ServerConfig> server) {
  std::lock_guard<std::mutex> lock(server_mu_);
  server_ = std::move(server);
}

void EstService::SetCaConfig(std::shared_ptr<const CaConfig> ca) {
  std::lock_guard<std::mutex> lock(server_mu_);
  ca_ = std::move(ca);
}

std::shared_ptr<const CaConfig> EstService::CurrentCa() const {
  std::lock_guard<std::mutex> lock(server_mu_);
  return ca_;
}

std::shared_ptr<const ServerConfig> EstService::Server() const {
  std::lock_guard<std::mutex> lock(server_mu_);
  return server_;
}

Result<std::shared_ptr<const EstService::Generation>> EstService::MakeGeneration(
    std::string ca_name, X509* issuing, X509* root, std::vector<std::pair<std::string, X509*>> retired) {
  auto gen = std::make_shared<Generation>();
  std::vector<X509*> certs{issuing};
  if (root != nullptr) certs.push_back(root);
  CV_ASSIGN_OR_RETURN(Bytes p7, est::EncodeCertsOnly(certs));
  gen->cacerts = est::EncodeBase64(p7);
  gen->ca_name = std::move(ca_name);
  gen->issuing = issuing;
  gen->root = root;
  gen->retired = std::move(retired);
  return std::shared_ptr<const Generation>(std::move(gen));
}

Status EstService::SetGeneration(std::string ca_name, X509* issuing, X509* root,
                                 std::vector<std::pair<std::string, X509*>> retired) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<const Generation> gen,
                      MakeGeneration(std::move(ca_name), issuing, root, std::move(retired)));
  std::lock_guard<std::mutex> lock(server_mu_);
  gen_ = std::move(gen);
  return OkStatus();
}

std::shared_ptr<const EstService::Generation> EstService::CurrentGeneration() const {
  std::lock_guard<std::mutex> lock(server_mu_);
  return gen_;
}

Result<std::unique_ptr<EstService>> EstService::Create(EstDeps deps) {
  std::unique_ptr<EstService> s(new EstService(std::move(deps)));
  CV_RETURN_IF_ERROR(s->SetGeneration(s->deps_.ca_name, s->deps_.issuing, s->deps_.root, s->deps_.retired));
  return s;
}

bool EstService::Handle(const HttpRequest& request, HttpReply& reply) {
  Ctx ctx;
  ctx.id = next_id_.fetch_add(1);
  ctx.address = request.peer->address;
  ctx.method = request.method;
  ctx.tls = request.peer->tls;
  if (request.path == "/healthz") {
    ctx.op = "healthz";
    bool ok = deps_.may_sign();
    Answer(reply, ctx, ok ? 200 : 503, ok ? "ok" : "the CA cannot sign (self-test error state or clock check)");
  } else if (request.path == "/metrics") {
    ctx.op = "metrics";
    std::string text = deps_.metrics->Text(deps_.handshake_failures ? deps_.handshake_failures() : 0);
    reply.content_type = "text/plain; version=0.0.4";
    reply.body.assign(text.begin(), text.end());
  } else {
    Result<est::EstPath> path = est::ParseEstPath(request.path);
    if (!path.ok() && !request.path.starts_with(est::kPrefix)) return false;  // OCSP, CRL
    if (!path.ok()) {
      ctx.op = "est";
      Answer(reply, ctx, 404, "unknown EST operation");
    } else {
      Est(request, *path, ctx, reply);
      if (ctx.deferred) return true;
    }
  }
  Finish(ctx, reply);
  return true;
}

// Finish: the request id, metrics and access-log line of an answered request.
void EstService::Finish(const Ctx& ctx, HttpReply& reply) {
  char rid[24];
  std::snprintf(rid, sizeof(rid), "%016llx", static_cast<unsigned long long>(ctx.id));  // NOLINT(runtime/int)
  reply.headers.emplace_back("X-Request-Id", rid);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.start).count();
  deps_.metrics->Record(ctx.op, reply.status, secs, ctx.issued);
  Log(ctx, reply);
}

void EstService::Est(const HttpRequest& request, const est::EstPath& path, Ctx& ctx, HttpReply& reply) {
  ctx.op = std::string(est::OperationName(path.op));
  // RFC 7030 §3.3: "HTTPS MUST be used" for EST.
  if (!request.peer->tls) return Answer(reply, ctx, 403, "EST requires HTTPS");
  const char* method = est::IsPost(path.op) ? "POST" : "GET";
  if (request.method != method) {
    reply.headers.emplace_back("Allow", method);
    return Answer(reply, ctx, 405, std::string("use ") + method);
  }
  std::string profile = path.label.empty() ? Server()->default_profile : path.label;
  switch (path.op) {
    case est::Operation::kCaCerts: {  // RFC 7030 §4.1.3, RFC 8951 §3.2
      // The chain of the generation issuing now.
      std::shared_ptr<const Generation> gen = CurrentGeneration();
      reply.content_type = "application/pkcs7-mime; smime-type=certs-only";
      reply.headers.emplace_back("Content-Transfer-Encoding", "base64");
      reply.body.assign(gen->cacerts.begin(), gen->cacerts.end());
      return;
    }
    case est::Operation::kCsrAttrs: {  // RFC 7030 §4.5
      ctx.profile = profile;
      std::shared_ptr<const CaConfig> ca = CurrentCa();  // a SIGHUP reload may change the profiles
      auto p = ca->profiles.find(profile);
      if (p == ca->profiles.end()) return Answer(reply, ctx, 404, "unknown profile");
      Result<Bytes> attrs = est::EncodeCsrAttrs(p->second);
      if (!attrs.ok()) return Answer(reply, ctx, 500, "internal error");
      if (attrs->empty()) return Answer(reply, ctx, 204, "");
      std::string b64 = est::EncodeBase64(*attrs);
      reply.content_type = "application/csrattrs";
      reply.headers.emplace_back("Content-Transfer-Encoding", "base64");
      reply.body.assign(b64.begin(), b64.end());
      return;
    }
    case est::Operation::kSimpleEnroll:
      return Enroll(request, profile, false, ctx, reply);
    case est::Operation::kSimpleReenroll:
      return Enroll(request, path.label, true, ctx, reply);
    case est::Operation::kServerKeygen:  // RFC 7030 §4.4, as an update package for a vault
      if (!ServerKeygenConfigured(*deps_.ca)) return Answer(reply, ctx, 501, "serverkeygen is not configured");
      ctx.keygen = true;
      return Enroll(request, profile, false, ctx, reply);
    case est::Operation::kFullCmc:
      return Answer(reply, ctx, 501, "not implemented by this server");
    default:
      return Answer(reply, ctx, 404, "unknown EST operation");
  }
}

// CheckClientCert: the TLS client certificate verified (at the handshake)
// against the anchors; a certificate of this CA must be in its database
// and not revoked (the database is the source of the CA's CRLs, and is
// never older than them). *out_own is that record, or left empty.
Status EstService::CheckClientCert(const ConnectionPeer& peer, Ctx& ctx, CertRecord* out_own) {
  X509* leaf = peer.cert.get();
  std::string serial = SerialHex(leaf);
  ctx.client = "cert subject=" + NameText(X509_get_subject_name(leaf)) +
               " issuer=" + NameText(X509_get_issuer_name(leaf)) + " serial=" + serial;
  if (peer.verify_result != X509_V_OK) {
    return PermissionDeniedError(std::string("client certificate not trusted: ") +
                                 X509_verify_cert_error_string(peer.verify_result));
  }
  // A certificate of this CA: of its current generation or of a retired one
  // (after a rollover; never passed as a foreign certificate unchecked).
  std::shared_ptr<const Generation> gen = CurrentGeneration();
  const std::string* ca_name = X509_check_issued(gen->issuing, leaf) == X509_V_OK ? &gen->ca_name : nullptr;
  for (const auto& [name, cert] : gen->retired) {
    if (ca_name == nullptr && X509_check_issued(cert, leaf) == X509_V_OK) ca_name = &name;
  }
  if (ca_name == nullptr) return OkStatus();
  Result<CertRecord> rec = [&] {
    std::lock_guard<std::mutex> lock(lookup_mu_);
    return deps_.lookup_db->FindBySerial(*ca_name, serial);
  }();
  if (rec.status().code() == StatusCode::kNotFound) return PermissionDeniedError("client certificate unknown to this CA");
  if (!rec.ok()) return UnavailableError("database unavailable");
  if (rec->revoked) return PermissionDeniedError("client certificate revoked");
  *out_own = std::move(*rec);
  return OkStatus();
}

Status EstService::IssueInto(IssueItem item, const std::string& profile, Ctx& ctx, HttpReply& reply) {
  item.source = "est:" + std::to_string(ctx.id);
  item.actor = EstActor(ctx);
  return AnswerIssued(deps_.queue->Submit(std::move(item), profile), ctx, reply);
}

// IssueDeferred: IssueInto without holding the server's thread, where the
// request allows it: the answer is sent from the issue worker once the
// certificate is committed (or refused).
void EstService::IssueDeferred(const HttpRequest& request, IssueItem item, const std::string& profile, Ctx& ctx,
                               HttpReply& reply) {
  if (!request.defer) {
    (void)IssueInto(std::move(item), profile, ctx, reply);
    return;
  }
  item.source = "est:" + std::to_string(ctx.id);
  item.actor = EstActor(ctx);
  ctx.deferred = true;
  ReplySink sink = request.defer();
  deps_.queue->SubmitAsync(std::move(item), profile, [this, ctx, sink](Result<IssueOutcome> out) mutable {
    HttpReply answer;
    try {
      (void)AnswerIssued(std::move(out), ctx, answer);
      Finish(ctx, answer);
    } catch (...) {  // bad_alloc: the connection must still be answered
      answer = HttpReply{};
      answer.status = 500;
    }
    sink(std::move(answer));
  });
}

// AnswerIssued: the reply for the outcome of one issuance.
Status EstService::AnswerIssued(Result<IssueOutcome> out, Ctx& ctx, HttpReply& reply) {
  if (!out.ok()) {
    reply.headers.emplace_back("Retry-After", "30");
    Answer(reply, ctx, 503, "the CA cannot issue now");
    ctx.reason += ": " + std::string(out.status().message());
    return out.status();
  }
  if (!out->status.ok()) {
    // kInvalidArgument: malformed CSR (400); kPermissionDenied: the profile
    // or the renewed certificate does not allow what it asks for (403).
    Answer(reply, ctx, CodeOf(out->status), "CSR refused: " + std::string(out->status.message()));
    return out->status;
  }
  // The certificate is the DER the Issuer signed and stored: wrapped as it
  // is, not parsed again (est::EncodeCertsOnlyDer).
  Bytes p7 = est::EncodeCertsOnlyDer(std::span<const Bytes>(&out->der, 1));
  ctx.serial = out->serial;
  ctx.issued = true;
  std::string b64 = est::EncodeBase64(p7);
  reply.status = 200;
  reply.content_type = "application/pkcs7-mime; smime-type=certs-only";
  reply.headers.emplace_back("Content-Transfer-Encoding", "base64");
  reply.body.assign(b64.begin(), b64.end());
  ctx.answered = true;
  return OkStatus();
}

void EstService::Enroll(const HttpRequest& request, const std::string& label, bool reenroll, Ctx& ctx,
                        HttpReply& reply) {
  if (request.too_large) return Answer(reply, ctx, 413, "request body too large");
  if (!deps_.may_sign()) {
    reply.headers.emplace_back("Retry-After", "60");
    return Answer(reply, ctx, 503, "the CA cannot sign now (self-test error state or clock check)");
  }
  Result<Bytes> csr = est::DecodeBase64Body(request.body, deps_.ca->max_csr_bytes);
  if (!csr.ok()) return Answer(reply, ctx, CodeOf(csr.status()), "malformed body: " + std::string(csr.status().message()));
  if (reenroll) return Reenroll(request, label, std::move(*csr), ctx, reply);
  ctx.profile = label;
  if (label.empty()) return Answer(reply, ctx, 404, "no profile: use /.well-known/est/<profile>/simpleenroll");
  if (CurrentCa()->profiles.count(label) == 0) return Answer(reply, ctx, 404, "unknown profile");
  const ConnectionPeer& peer = *request.peer;
  bool has_basic = !request.authorization.empty();
  if (peer.cert != nullptr) {
    CertRecord own;
    if (Status st = CheckClientCert(peer, ctx, &own); !st.ok()) return Answer(reply, ctx, CodeOf(st), std::string(st.message()));
    std::vector<std::string> granted = ProfilesFor(Server()->authorize, NameText(X509_get_issuer_name(peer.cert.get())),
                                                   NameText(X509_get_subject_name(peer.cert.get())));
    if (std::find(granted.begin(), granted.end(), label) != granted.end()) {
      if (ctx.keygen) return (void)KeygenInto(std::move(*csr), label, ctx, reply);
      return IssueDeferred(request, IssueItem{"", std::move(*csr), ""}, label, ctx, reply);
    }
    if (!has_basic) return Answer(reply, ctx, 403, "the client certificate may not enroll into this profile");
  }
  EnrollWithCode(request.authorization, label, std::move(*csr), ctx, reply);
}

// Reenroll: RFC 7030 §4.2.2: authenticated by the certificate being renewed,
// which must be a current certificate of this CA; same subject and profile.
void EstService::Reenroll(const HttpRequest& request, const std::string& label, Bytes csr, Ctx& ctx,
                          HttpReply& reply) {
  const ConnectionPeer& peer = *request.peer;
  if (peer.cert == nullptr) return Answer(reply, ctx, 403, "re-enrollment needs the current certificate");
  CertRecord own;
  if (Status st = CheckClientCert(peer, ctx, &own); !st.ok()) return Answer(reply, ctx, CodeOf(st), std::string(st.message()));
  if (own.serial.empty()) return Answer(reply, ctx, 403, "the client certificate is not one of this CA");
  ctx.profile = label.empty() ? own.profile : label;
  if (ctx.profile != own.profile) return Answer(reply, ctx, 403, "re-enrollment keeps the profile");
  // RFC 7030 §4.2.2: "The request Subject field and SubjectAltName extension
  // MUST be identical to the corresponding fields in the certificate being
  // renewed/rekeyed."
  Result<std::vector<x509::SanEntry>> sans = CertificateSans(own.der);
  if (!sans.ok()) return Answer(reply, ctx, 503, "the certificate being renewed cannot be read");
  IssueItem item{"", std::move(csr), own.subject};
  item.require_sans = std::move(*sans);
  IssueDeferred(request, std::move(item), ctx.profile, ctx, reply);
}

// EnrollWithCode: HTTP Basic (RFC 7617) with a one-time enrollment code.
void EstService::EnrollWithCode(const std::string& authorization, const std::string& profile, Bytes csr, Ctx& ctx,
                                HttpReply& reply) {
  std::string id;
  SecretBytes password;
  if (authorization.empty() || !est::ParseBasicAuth(authorization, id, password)) {
    reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"certvault EST\"");
    return Answer(reply, ctx, 401, authorization.empty() ? "authentication required" : "malformed credentials");
  }
  std::shared_ptr<const ServerConfig> server = Server();
  const auto& allowed = server->enroll_code_profiles;
  if (std::find(allowed.begin(), allowed.end(), profile) == allowed.end()) {
    return Answer(reply, ctx, 403, "enrollment codes are not accepted for this profile");
  }
  ctx.client += (ctx.client.empty() ? "code " : " code ") + id;
  Status st = codes_.Redeem(id, password, profile, static_cast<int64_t>(std::time(nullptr)), [&] {
    if (ctx.keygen) return KeygenInto(std::move(csr), profile, ctx, reply);
    return IssueInto(IssueItem{"", std::move(csr), ""}, profile, ctx, reply);
  });
  if (st.ok() || ctx.answered) return;
  if (st.code() == StatusCode::kUnauthenticated) {
    reply.headers.emplace_back("WWW-Authenticate", "Basic realm=\"certvault EST\"");
  }
  Answer(reply, ctx, CodeOf(st), std::string(st.message()));
}

// KeygenInto: serverkeygen's issuance and answer (est_serverkeygen.h). It
// holds the server thread (the package is built after the commit).
Status EstService::KeygenInto(Bytes csr, const std::string& profile, Ctx& ctx, HttpReply& reply) {
  std::shared_ptr<const Generation> gen = CurrentGeneration();  // kept for the call: a switch may come meanwhile
  KeygenDeps kd{deps_.ca, gen->ca_name, gen->issuing, deps_.queue, deps_.lookup_db, &lookup_mu_};
  IssueItem item;
  item.source = "est:" + std::to_string(ctx.id);
  item.actor = EstActor(ctx);
  Result<KeygenAnswer> out = ServerKeygen(kd, csr, profile, std::move(item));
  if (!out.ok()) {
    Answer(reply, ctx, CodeOf(out.status()), "serverkeygen refused: " + std::string(out.status().message()));
    return out.status();
  }
  ctx.serial = out->serial;
  ctx.issued = true;
  reply.status = 200;
  reply.content_type = out->content_type;
  reply.body.assign(out->body.begin(), out->body.end());
  ctx.answered = true;
  return OkStatus();
}

void EstService::Log(const Ctx& ctx, const HttpReply& reply) {
  if (deps_.access_log == nullptr) return;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.start).count();
  char head[160];
  std::snprintf(head, sizeof(head), "{\"time\":%lld,\"id\":\"%016llx\",\"status\":%u,\"ms\":%.3f",
                static_cast<long long>(std::time(nullptr)), static_cast<unsigned long long>(ctx.id),  // NOLINT
                reply.status, ms);
  std::string line = std::string(head) + ",\"peer\":\"" + JsonEscape(ctx.address) + "\",\"tls\":" +
                     (ctx.tls ? "true" : "false") + ",\"op\":\"" + JsonEscape(ctx.op) + "\",\"method\":\"" +
                     JsonEscape(ctx.method) + "\",\"profile\":\"" + JsonEscape(ctx.profile) + "\",\"client\":\"" +
                     JsonEscape(ctx.client) + "\",\"serial\":\"" + ctx.serial + "\",\"result\":\"" +
                     (ctx.issued ? "issued" : reply.status < 400 ? "ok" : "refused") + "\",\"reason\":\"" +
                     JsonEscape(ctx.reason) + "\"}\n";
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fputs(line.c_str(), deps_.access_log);
  std::fflush(deps_.access_log);
}

}  // namespace certvault::ca
