// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/cmp_service.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>

#include "ca/cmp/cmp_envelope.h"
#include "ca/cmp/cmp_ptr.h"
#include "ca/server/cmp_service_internal.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {

namespace cmp_internal {

std::string NameText(const X509_NAME* name) {
  char buf[512];
  if (name == nullptr || X509_NAME_oneline(name, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

std::string SerialHex(const ASN1_INTEGER* serial) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr || BN_is_negative(bn.get())) return "";
  Bytes out(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), out.data());
  return HexEncode(out);
}

Bytes PubkeyDer(X509_PUBKEY* pk) {
  return Der([&](unsigned char** b) { return i2d_X509_PUBKEY(pk, b); });
}

OSSL_CMP_PKISI* Rejection(const Status& st, CmpService::Req& r) {
  int bit = OSSL_CMP_PKIFAILUREINFO_systemFailure;
  switch (st.code()) {
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      bit = OSSL_CMP_PKIFAILUREINFO_notAuthorized;
      break;
    case StatusCode::kInvalidArgument:
      bit = OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
      break;
    case StatusCode::kNotFound:
      bit = OSSL_CMP_PKIFAILUREINFO_badCertId;
      break;
    case StatusCode::kAlreadyExists:
      bit = OSSL_CMP_PKIFAILUREINFO_transactionIdInUse;
      break;
    case StatusCode::kFailedPrecondition:
      bit = OSSL_CMP_PKIFAILUREINFO_certRevoked;
      break;
    case StatusCode::kUnavailable:
      bit = OSSL_CMP_PKIFAILUREINFO_systemUnavail;
      break;
    default:
      break;
  }
  r.reason = std::string(st.message());
  return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_rejection, 1 << bit, r.reason.c_str());
}

}  // namespace cmp_internal

namespace {

using namespace cmp_internal;  // NOLINT(build/namespaces)

constexpr char kPrefix[] = "/.well-known/cmp";

CmpService::Req& ReqOf(OSSL_CMP_SRV_CTX* srv) {
  return *static_cast<CmpService::Req*>(OSSL_CMP_SRV_CTX_get0_custom_ctx(srv));
}

OSSL_CMP_PKISI* OnCertRequest(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG* req, int, const OSSL_CRMF_MSG* crm,
                              const X509_REQ* p10cr, X509** cert_out, STACK_OF(X509) * *chain_out,
                              STACK_OF(X509) * *ca_pubs) {
  CmpService::Req& r = ReqOf(srv);
  return r.svc->CertRequest(r, req, crm, p10cr, cert_out, chain_out, ca_pubs);
}

OSSL_CMP_PKISI* OnRevoke(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const X509_NAME* issuer,
                         const ASN1_INTEGER* serial) {
  CmpService::Req& r = ReqOf(srv);
  return r.svc->Revoke(r, issuer, serial);
}

int OnGenm(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const STACK_OF(OSSL_CMP_ITAV) * in,
           STACK_OF(OSSL_CMP_ITAV) * *out) {
  CmpService::Req& r = ReqOf(srv);
  return r.svc->Genm(r, in, out) ? 1 : 0;
}

void OnError(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, const OSSL_CMP_PKISI*, const ASN1_INTEGER*,
             const OSSL_CMP_PKIFREETEXT*) {
  ReqOf(srv).reason = "the client sent an error message";
}

int OnCertConf(OSSL_CMP_SRV_CTX* srv, const OSSL_CMP_MSG*, int, const ASN1_OCTET_STRING* hash, const OSSL_CMP_PKISI*) {
  CmpService::Req& r = ReqOf(srv);
  return r.svc->CertConf(r, hash) ? 1 : 0;
}

int OnPollReq(OSSL_CMP_SRV_CTX*, const OSSL_CMP_MSG*, int, OSSL_CMP_MSG**, int64_t*) {
  return 0;  // never answers "waiting": issuance is synchronous
}

int QuietLog(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

std::string_view BodyName(int type) {
  switch (type) {
    case cmp::kIr:
      return "cmp-ir";
    case cmp::kCr:
      return "cmp-cr";
    case cmp::kP10cr:
      return "cmp-p10cr";
    case cmp::kKur:
      return "cmp-kur";
    case cmp::kRr:
      return "cmp-rr";
    case cmp::kGenm:
      return "cmp-genm";
    case cmp::kCertConf:
      return "cmp-certconf";
    case cmp::kError:
      return "cmp-error";
    default:
      return "cmp-other";
  }
}

void Text(HttpReply& reply, unsigned int status, const std::string& text) {
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body.assign(text.begin(), text.end());
  reply.body.push_back('\n');
}

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > 64 || label[0] == '.') return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

Result<std::unique_ptr<CmpService>> CmpService::Create(CmpDeps deps) {
  std::unique_ptr<CmpService> s(new CmpService(std::move(deps)));
  CV_RETURN_IF_ERROR(cmp::ImportLegacyTxnFile(s->deps_.ca->dir, *s->deps_.db, s->deps_.ca_name));
  s->anchors_ = X509_STORE_new();
  if (s->anchors_ == nullptr) return ossl::OpenSslError("X509_STORE_new");
  CV_RETURN_IF_ERROR(s->SetGeneration(CmpGeneration{s->deps_.ca_name, s->deps_.issuing, s->deps_.root, {}}));
  for (const std::string& path : s->deps_.server()->client_anchors) {
    if (X509_STORE_load_file_ex(s->anchors_, path.c_str(), s->deps_.libctx, nullptr) != 1) {
      ossl::ClearErrors();
      return FailedPreconditionError("cannot read the client anchors " + path);
    }
  }
  return s;
}

CmpService::~CmpService() { X509_STORE_free(anchors_); }

void CmpService::SetSigner(EVP_PKEY* key, X509* cert, std::shared_ptr<const void> owner) {
  std::lock_guard<std::mutex> lock(signer_mu_);
  deps_.key = key;
  deps_.cert = cert;
  deps_.signer_owner = std::move(owner);
}

// Authenticate: who protected the request, before OpenSSL checks the
// protection itself. PBM: the enrollment code named by senderKID (its
// secret is what OpenSSL verifies the MAC with). Signature: extraCerts[0]
// (RFC 9483 §3.3: "the first certificate MUST be the CMP protection
// certificate"), validated here; it is then pinned as the only certificate
// OpenSSL verifies the signature with, so this identity is the signer's.
Status CmpService::Authenticate(Req& r) {
  if (r.env.pbm) {
    r.code_id.assign(r.env.sender_kid.begin(), r.env.sender_kid.end());
    r.client = "code " + r.code_id;
    CV_ASSIGN_OR_RETURN(r.secret, codes_.MacSecret(r.code_id));
    return OkStatus();
  }
  if (r.env.extra_certs.empty()) return UnauthenticatedError("no CMP protection certificate in extraCerts");
  const Bytes& der = r.env.extra_certs[0];
  const uint8_t* p = der.data();
  r.signer.reset(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (r.signer == nullptr) {
    ossl::ClearErrors();
    return InvalidArgumentError("malformed protection certificate");
  }
  X509* leaf = r.signer.get();
  r.client = "cert subject=" + NameText(X509_get_subject_name(leaf)) +
             " issuer=" + NameText(X509_get_issuer_name(leaf)) + " serial=" + SerialHex(X509_get0_serialNumber(leaf));
  ossl::X509StackPtr untrusted(sk_X509_new_null());
  for (size_t i = 1; i < r.env.extra_certs.size() && untrusted != nullptr; ++i) {
    const uint8_t* q = r.env.extra_certs[i].data();
    ossl::UniquePtr<X509> c(d2i_X509(nullptr, &q, static_cast<long>(r.env.extra_certs[i].size())));  // NOLINT
    if (c != nullptr && sk_X509_push(untrusted.get(), c.get()) > 0) (void)c.release();  // owned by `untrusted`
  }
  ossl::ClearErrors();
  ossl::UniquePtr<X509_STORE_CTX> vctx(X509_STORE_CTX_new_ex(deps_.libctx, nullptr));
  if (vctx == nullptr || untrusted == nullptr ||
      X509_STORE_CTX_init(vctx.get(), anchors_, leaf, untrusted.get()) != 1) {
    return ossl::OpenSslError("X509_STORE_CTX_init");
  }
  if (X509_verify_cert(vctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(vctx.get());
    ossl::ClearErrors();
    return PermissionDeniedError(std::string("protection certificate not trusted: ") +
                                 X509_verify_cert_error_string(err));
  }
  // A certificate of this CA, of the current generation or a live retired one.
  const std::string* ca_name = X509_check_issued(r.gen->issuing, leaf) == X509_V_OK ? &r.gen->ca_name : nullptr;
  for (const auto& [name, cert] : r.gen->retired) {
    if (ca_name == nullptr && X509_check_issued(cert, leaf) == X509_V_OK) ca_name = &name;
  }
  if (ca_name == nullptr) return OkStatus();
  std::string serial = SerialHex(X509_get0_serialNumber(leaf));
  Result<CertRecord> rec = [&] {
    std::lock_guard<std::mutex> lock(db_mu_);
    return deps_.db->FindBySerial(*ca_name, serial);
  }();
  if (rec.status().code() == StatusCode::kNotFound)
    return PermissionDeniedError("protection certificate unknown to this CA");
  if (!rec.ok()) return UnavailableError("database unavailable");
  if (rec->revoked) return PermissionDeniedError("protection certificate revoked");
  r.own = std::move(*rec);
  return OkStatus();
}

bool CmpService::Handle(const HttpRequest& request, HttpReply& reply) {
  std::string_view path = request.path;
  if (!path.starts_with(kPrefix)) return false;
  static std::atomic<uint64_t> next_id{1};
  Req r;
  r.svc = this;
  r.gen = CurrentGeneration();
  r.id = next_id.fetch_add(1);
  std::string_view rest = path.substr(sizeof(kPrefix) - 1);
  bool labelled = rest.starts_with("/p/") && ValidLabel(rest.substr(3));
  if (labelled) r.label = std::string(rest.substr(3));
  if (!labelled && !rest.empty() && rest != "/") {
    Text(reply, 404, "unknown CMP path: use /.well-known/cmp or /.well-known/cmp/p/<profile>");
  } else if (request.method != "POST") {  // RFC 6712 §3.3/§3.4: POST with Content-Type application/pkixcmp.
    reply.headers.emplace_back("Allow", "POST");
    Text(reply, 405, "use POST");
  } else if (request.too_large) {
    Text(reply, 413, "request body too large");
  } else if (!request.content_type.starts_with("application/pkixcmp")) {
    Text(reply, 415, "Content-Type must be application/pkixcmp");
  } else {
    Process(r, request.body, reply);
  }
  Log(r, reply.status);
  return true;
}

Status CmpService::SetGeneration(CmpGeneration gen) {
  // X509_STORE_add_cert locks the store: verifications in flight are safe.
  std::vector<X509*> certs{gen.issuing, gen.root};
  for (const auto& [name, cert] : gen.retired) certs.push_back(cert);
  for (X509* c : certs) {
    // One already there (the root after an issuing-only rollover) is a success in OpenSSL 3.
    if (c != nullptr && X509_STORE_add_cert(anchors_, c) != 1) return ossl::OpenSslError("X509_STORE_add_cert");
  }
  auto next = std::make_shared<const CmpGeneration>(std::move(gen));
  std::lock_guard<std::mutex> lock(gen_mu_);
  gen_ = std::move(next);
  return OkStatus();
}

std::shared_ptr<const CmpGeneration> CmpService::CurrentGeneration() const {
  std::lock_guard<std::mutex> lock(gen_mu_);
  return gen_;
}

Result<std::string> CmpService::CaNameFor(const CmpGeneration& gen, const X509_NAME* issuer,
                                          const std::string& serial) {
  std::vector<std::pair<std::string, X509*>> all{{gen.ca_name, gen.issuing}};
  all.insert(all.end(), gen.retired.rbegin(), gen.retired.rend());
  std::string named;
  for (const auto& [name, cert] : all) {
    if (X509_NAME_cmp(issuer, X509_get_subject_name(cert)) != 0) continue;
    if (named.empty()) named = name;
    std::lock_guard<std::mutex> lock(db_mu_);
    if (deps_.db->FindBySerial(name, serial).ok()) return name;
  }
  if (named.empty()) return NotFoundError("not a certificate of this CA");
  return named;  // its Revoke names the unknown serial
}

// NewServerContext: a CMP server context for one request (OpenSSL's keeps
// per-transaction state, so each request gets its own; one waiting for
// certConf is kept in open_). Responses are signed with the TLS server key.
Result<std::shared_ptr<OSSL_CMP_SRV_CTX>> CmpService::NewServerContext(const CmpGeneration& gen) {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::shared_ptr<const void> owner;
  {
    std::lock_guard<std::mutex> lock(signer_mu_);
    key = deps_.key;
    cert = deps_.cert;
    owner = deps_.signer_owner;
  }
  // The context keeps the signer's owner (its library context and provider)
  // until it is freed, whatever a reload does meanwhile.
  std::shared_ptr<OSSL_CMP_SRV_CTX> srv(OSSL_CMP_SRV_CTX_new(deps_.libctx, "?provider=default"),
                                        [owner](OSSL_CMP_SRV_CTX* p) { OSSL_CMP_SRV_CTX_free(p); });
  if (srv == nullptr) return ossl::OpenSslError("OSSL_CMP_SRV_CTX_new");
  OSSL_CMP_CTX* ctx = OSSL_CMP_SRV_CTX_get0_cmp_ctx(srv.get());
  ossl::X509StackPtr chain(sk_X509_new_null());
  bool ok = chain != nullptr && sk_X509_push(chain.get(), gen.issuing) > 0 &&
            (gen.root == nullptr || sk_X509_push(chain.get(), gen.root) > 0);
  // RFC 9483 §3.1: implicitConfirm is granted when the client asks for it.
  if (!ok || OSSL_CMP_SRV_CTX_set_grant_implicit_confirm(srv.get(), 1) != 1 ||
      OSSL_CMP_CTX_set_log_cb(ctx, QuietLog) != 1 || OSSL_CMP_CTX_set1_cert(ctx, cert) != 1 ||
      OSSL_CMP_CTX_set1_pkey(ctx, key) != 1 || OSSL_CMP_CTX_set1_untrusted(ctx, chain.get()) != 1) {
    sk_X509_free(chain.release());  // borrowed certificates: only the stack is freed
    return ossl::OpenSslError("OSSL_CMP_CTX setup");
  }
  sk_X509_free(chain.release());  // set1_untrusted took its own references
  return srv;
}

// Process: one PKIMessage in, one out (an error message for anything
// OpenSSL or a callback refuses); HTTP 400 only when it is no PKIMessage.
void CmpService::Process(Req& r, const Bytes& body, HttpReply& reply) {
  Result<cmp::Envelope> env = cmp::DecodeEnvelope(body);
  const uint8_t* p = body.data();
  ossl::UniquePtr<OSSL_CMP_MSG> req;
  if (env.ok()) req.reset(d2i_OSSL_CMP_MSG(nullptr, &p, static_cast<long>(body.size())));  // NOLINT(runtime/int)
  if (!env.ok() || req == nullptr || p != body.data() + body.size()) {
    ossl::ClearErrors();
    r.reason = env.ok() ? "not a PKIMessage" : std::string(env.status().message());
    return Text(reply, 400, "malformed CMP message");
  }
  r.env = std::move(*env);
  r.tid = HexEncode(r.env.transaction_id);
  r.op = std::string(BodyName(r.env.body_type));
  std::shared_ptr<OSSL_CMP_SRV_CTX> srv;
  if (r.env.body_type == cmp::kCertConf && !r.tid.empty()) {
    std::lock_guard<std::mutex> lock(open_mu_);
    auto it = open_.find(r.tid);
    if (it != open_.end()) {
      srv = std::move(it->second.srv);
      r.cert_der = std::move(it->second.cert);
      open_.erase(it);
    }
  }
  if (srv == nullptr) {
    Result<std::shared_ptr<OSSL_CMP_SRV_CTX>> fresh = NewServerContext(*r.gen);
    if (!fresh.ok()) return Text(reply, 500, "internal error");
    srv = std::move(*fresh);
  }
  r.auth = Authenticate(r);
  OSSL_CMP_CTX* ctx = OSSL_CMP_SRV_CTX_get0_cmp_ctx(srv.get());
  bool setup =
      OSSL_CMP_SRV_CTX_init(srv.get(), &r, OnCertRequest, OnRevoke, OnGenm, OnError, OnCertConf, OnPollReq) == 1;
  if (r.signer != nullptr) setup = setup && OSSL_CMP_CTX_set1_srvCert(ctx, r.signer.get()) == 1;
  if (r.env.pbm && r.auth.ok()) {
    std::span<const uint8_t> secret = r.secret.Bytes(SecretAccess::Get());
    setup = setup && OSSL_CMP_CTX_set1_secretValue(ctx, secret.data(), static_cast<int>(secret.size())) == 1;
  }
  if (!r.auth.ok()) r.reason = std::string(r.auth.message());
  ossl::UniquePtr<OSSL_CMP_MSG> rsp(setup ? OSSL_CMP_SRV_process_request(srv.get(), req.get()) : nullptr);
  // The secret stays in no context that outlives this request.
  if (r.env.pbm) (void)OSSL_CMP_CTX_set1_secretValue(ctx, nullptr, 0);
  ossl::ClearErrors();
  Bytes der = rsp != nullptr ? Der([&](unsigned char** b) { return i2d_OSSL_CMP_MSG(rsp.get(), b); }) : Bytes{};
  if (der.empty()) return Text(reply, 500, "cannot build the CMP answer");
  int rsp_type = OSSL_CMP_MSG_get_bodytype(rsp.get());
  if (rsp_type == cmp::kError && r.reason.empty()) r.reason = "refused by the CMP protocol checks";
  // Without implicitConfirm the transaction waits for certConf (RFC 9483 §4.1.1).
  if (r.issued && OSSL_CMP_CTX_get_option(ctx, OSSL_CMP_OPT_IMPLICIT_CONFIRM) == 0) {
    std::lock_guard<std::mutex> lock(open_mu_);
    if (open_.size() >= kMaxOpen) open_.erase(open_.begin());
    open_[r.tid] = Open{srv, r.cert_der};
  }
  reply.status = 200;
  reply.content_type = "application/pkixcmp";
  reply.body = std::move(der);
}

void CmpService::Log(const Req& r, unsigned int status) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.start).count();
  deps_.metrics->Record(r.op, status, secs, r.issued, !r.issued && !r.reason.empty());
  if (deps_.access_log == nullptr) return;
  auto esc = [](const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    }
    return out;
  };
  char head[160];
  std::snprintf(head, sizeof(head), "{\"time\":%lld,\"id\":\"cmp-%llu\",\"status\":%u,\"ms\":%.3f",
                static_cast<long long>(std::time(nullptr)), static_cast<unsigned long long>(r.id),  // NOLINT
                status, secs * 1000);
  std::string line = std::string(head) + ",\"op\":\"" + r.op + "\",\"transaction\":\"" + r.tid + "\",\"profile\":\"" +
                     esc(r.label) + "\",\"client\":\"" + esc(r.client) + "\",\"serial\":\"" + r.serial +
                     "\",\"result\":\"" +
                     (r.issued           ? "issued"
                      : r.reason.empty() ? "ok"
                                         : "refused") +
                     "\",\"reason\":\"" + esc(r.reason) + "\"}\n";
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fputs(line.c_str(), deps_.access_log);
  std::fflush(deps_.access_log);
}

}  // namespace certvault::ca
