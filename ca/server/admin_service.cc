// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/admin_service.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <sstream>

#include "ca/issuance/serial.h"
#include "src/base/status_macros.h"
#include "src/crypto/x509_build.h"

namespace certvault::ca {

namespace {

constexpr std::string_view kPrefix = "/admin/v1/";

unsigned int HttpCode(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    default:
      return 503;
  }
}

void Text(HttpReply& reply, unsigned int code, const std::string& text) { AdminText(reply, code, text); }

std::string SerialHex(X509* cert) {
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (bn == nullptr) return "";
  Bytes serial(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), serial.data());
  return HexEncode(serial);
}

// Number: a decimal path segment within [lo, hi], or `def` when empty.
Result<int64_t> Number(const std::string& text, int64_t def, int64_t lo, int64_t hi) {
  if (text.empty()) return def;
  if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("not a number: " + text);
  }
  int64_t n = std::stoll(text);
  if (n < lo || n > hi) return InvalidArgumentError("out of range: " + text);
  return n;
}

std::vector<std::string> SplitPath(const std::string& rest) {
  std::vector<std::string> parts;
  std::istringstream in(rest);
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  return parts;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

void AdminText(HttpReply& reply, unsigned int code, const std::string& text) {
  reply.status = code;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body.assign(text.begin(), text.end());
  if (!text.empty() && text.back() != '\n') reply.body.push_back('\n');
}

void AdminService::SetConfig(AdminConfig config) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
}

bool AdminService::Handle(const HttpRequest& request, HttpReply& reply) {
  if (!request.path.starts_with("/admin/")) return false;
  Call call;
  call.address = request.peer->address;
  Status st = Authenticate(request, call);
  if (st.ok()) st = CheckLimits(call);
  if (st.ok()) st = Route(request, call, reply);
  if (!st.ok()) Text(reply, HttpCode(st), std::string(st.message()));
  return true;
}

// Authenticate: the TLS client certificate, as the header comment says.
Status AdminService::Authenticate(const HttpRequest& request, Call& call) {
  const ConnectionPeer& peer = *request.peer;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!config_.enabled) return NotFoundError("the admin API is off ([server.admin] enabled)");
  }
  auto refuse = [&](const std::string& who, Status st) {
    if (!FailureRecordAllowed(call.address)) return st;
    std::lock_guard<std::mutex> lock(db_mu_);
    roles_.RecordSignInFailure(call.address, who, std::string(st.message()));
    return st;
  };
  // Plain HTTP is no sign-in attempt: refused, not recorded.
  if (!peer.tls) return PermissionDeniedError("the admin API needs HTTPS");
  if (peer.cert == nullptr) return refuse("no certificate", UnauthenticatedError("a client certificate is required"));
  std::string serial = SerialHex(peer.cert.get());
  if (peer.verify_result != X509_V_OK) {
    return refuse("certificate " + serial, UnauthenticatedError(std::string("client certificate not trusted: ") +
                                                                X509_verify_cert_error_string(peer.verify_result)));
  }
  std::string ca_name = IssuerOf(peer.cert.get());
  if (ca_name.empty()) {
    return refuse("certificate " + serial, UnauthenticatedError("the client certificate is not one of this CA"));
  }
  std::lock_guard<std::mutex> lock(db_mu_);
  Result<CertRecord> rec = deps_.db->FindBySerial(ca_name, serial);
  if (!rec.ok() && rec.status().code() != StatusCode::kNotFound) return UnavailableError("database unavailable");
  if (!rec.ok() || rec->revoked) {
    Status st = rec.ok() ? PermissionDeniedError("the client certificate is revoked")
                         : UnauthenticatedError("the client certificate is unknown to this CA");
    if (FailureRecordAllowed(call.address)) {
      roles_.RecordSignInFailure(call.address, "certificate " + serial, std::string(st.message()));
    }
    return st;
  }
  CV_ASSIGN_OR_RETURN(call.who, roles_.SignIn(ca_name, serial, call.address));
  return OkStatus();
}

// IssuerOf: the database name of the issuing generation (current or live
// retired) that issued `cert`; "" for none.
std::string AdminService::IssuerOf(X509* cert) const {
  std::shared_ptr<const Generation> gen = CurrentGeneration();
  if (X509_check_issued(gen->issuing, cert) == X509_V_OK) return gen->ca_name;
  for (const auto& [name, issuer] : gen->retired) {
    if (X509_check_issued(issuer, cert) == X509_V_OK) return name;
  }
  return "";
}

// FailureRecordAllowed: at most kMaxFailureRecords failed sign-ins per
// client address and minute reach the audit trail (the rest are refused
// alike, unrecorded), so that unauthenticated clients cannot flood it.
bool AdminService::FailureRecordAllowed(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  auto& [start, count] = failures_[address];
  if (now - start >= std::chrono::minutes(1)) {
    start = now;
    count = 0;
  }
  if (failures_.size() > 100000) failures_.clear();  // bounded memory under a spray of addresses
  return ++count <= kMaxFailureRecords;
}

// CheckLimits: the allow-list of client addresses and the rate limit.
Status AdminService::CheckLimits(Call& call) {
  Status st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!AddressAllowed(config_.allow, call.address)) {
      st = PermissionDeniedError("client address " + call.address + " is not in [server.admin] allow");
    } else if (config_.rate_per_minute != 0) {
      auto now = std::chrono::steady_clock::now();
      auto& [start, count] = rate_[call.who.name];
      if (now - start >= std::chrono::minutes(1)) {
        start = now;
        count = 0;
      }
      if (++count > config_.rate_per_minute) {
        st = ResourceExhaustedError("rate limit: at most " + std::to_string(config_.rate_per_minute) +
                                    " requests per minute");
      }
    }
  }
  if (st.ok()) return st;
  std::lock_guard<std::mutex> lock(db_mu_);
  Status recorded = roles_.RecordEvent(call.who, "denied", "admin API", std::string(st.message()));
  return recorded.ok() ? st : recorded;
}

Status AdminService::Allow(Call& call, Action action, const std::string& target) {
  std::lock_guard<std::mutex> lock(db_mu_);
  return roles_.Check(call.who, action, target);
}

Status AdminService::Route(const HttpRequest& request, Call& call, HttpReply& reply) {
  if (!request.path.starts_with(kPrefix)) return NotFoundError("unknown admin route");
  std::string route = request.path.substr(kPrefix.size());
  bool post = request.method == "POST";
  if (request.method != "GET" && !post) return InvalidArgumentError("use GET or POST");
  if (route == "whoami" && !post) {
    std::vector<std::string> roles;
    for (Role r : call.who.roles) roles.emplace_back(RoleName(r));
    Text(reply, 200, call.who.name + "\t" + Join(roles, ","));
    return OkStatus();
  }
  if ((route == "certs" || route.starts_with("certs/")) && !post) return Certs(request, call, reply);
  if (route.starts_with("issue/") && post) return Issue(request, call, reply);
  if ((route == "revoke" || route.starts_with("revoke/")) && post) return Revoke(request, call, reply);
  if (route == "audit/verify" && !post) return AuditVerify(call, reply);
  if ((route == "audit/export" || route.starts_with("audit/export/")) && !post) {
    return AuditExport(route.size() > 13 ? route.substr(13) : "", call, reply);
  }
  if ((route == "audit" || route.starts_with("audit/")) && !post) return Audit(request, call, reply);
  if (route == "users" && !post) return Users(call, reply);
  if (route.starts_with("users/") && post) {
    std::vector<std::string> parts = SplitPath(route.substr(6));
    if (parts.size() == 3 && parts[1] == "add") return UserAdd(request, parts[0], parts[2], call, reply);
    return UserChange(route.substr(6), call, reply);
  }
  if (route == "config") return Config(request, call, reply);
  if ((route == "rollover" || route == "rollover/root") && post) return Rollover(route, call, reply);
  if (route == "crl" && post) {
    CV_RETURN_IF_ERROR(Allow(call, Action::kPublishCrl, "crl"));
    if (!deps_.may_sign() || !deps_.request_crl) return UnavailableError("the CA cannot sign now");
    deps_.request_crl();
    std::lock_guard<std::mutex> lock(db_mu_);
    CV_RETURN_IF_ERROR(roles_.RecordEvent(call.who, "crl-request", CurrentGeneration()->ca_name, "CRLs requested"));
    Text(reply, 202, "CRLs will be signed within a second");
    return OkStatus();
  }
  return NotFoundError("unknown admin route " + route);
}

Status AdminService::Certs(const HttpRequest& request, Call& call, HttpReply& reply) {
  std::string arg = request.path.size() > kPrefix.size() + 6 ? request.path.substr(kPrefix.size() + 6) : "";
  CV_ASSIGN_OR_RETURN(int64_t limit, Number(arg, 100, 1, 100000));
  CV_RETURN_IF_ERROR(Allow(call, Action::kReadCerts, "certificates"));
  // The current generation's certificates first, then the live retired
  // generations' (newest first), `limit` in all.
  std::shared_ptr<const Generation> gen = CurrentGeneration();
  std::vector<std::string> names{gen->ca_name};
  for (auto it = gen->retired.rbegin(); it != gen->retired.rend(); ++it) names.push_back(it->first);
  std::lock_guard<std::mutex> lock(db_mu_);
  std::string out;
  size_t left = static_cast<size_t>(limit);
  for (const std::string& name : names) {
    if (left == 0) break;
    CV_ASSIGN_OR_RETURN(std::vector<CertRecord> recs, deps_.db->List(name, "", left));
    for (const CertRecord& r : recs) {
      out += r.serial + "\t" + r.subject + "\t" + r.profile + "\t" + (r.revoked ? "R" : "V") + "\n";
    }
    left -= std::min(left, recs.size());
  }
  Text(reply, 200, out);
  return OkStatus();
}

Status AdminService::Issue(const HttpRequest& request, Call& call, HttpReply& reply) {
  std::string profile = request.path.substr(kPrefix.size() + 6);
  if (request.too_large) return ResourceExhaustedError("request body too large");
  CV_RETURN_IF_ERROR(Allow(call, Action::kIssue, "profile " + profile));
  if (deps_.queue == nullptr || !deps_.may_sign()) return UnavailableError("the CA cannot sign now");
  IssueItem item{"admin", request.body, ""};
  item.actor = AuditActor(ActorText(call.who));  // the issuer's records name who asked
  item.actor->source = call.who.source;
  CV_ASSIGN_OR_RETURN(IssueOutcome out, deps_.queue->Submit(std::move(item), profile));
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!out.status.ok()) {
    // A policy violation is recorded (and alerted) by the issuer, with this identity.
    if (out.policy_refused) return out.status;
    CV_RETURN_IF_ERROR(roles_.RecordEvent(call.who, "refuse", "profile " + profile, std::string(out.status.message())));
    return out.status;
  }
  CV_RETURN_IF_ERROR(roles_.RecordEvent(call.who, "issue", out.serial, "profile " + profile));
  CV_ASSIGN_OR_RETURN(std::string pem, x509::PemEncode("CERTIFICATE", out.der));
  Text(reply, 200, pem);
  return OkStatus();
}

Status AdminService::Revoke(const HttpRequest& request, Call& call, HttpReply& reply) {
  std::string arg = request.path.size() > kPrefix.size() + 7 ? request.path.substr(kPrefix.size() + 7) : "";
  CV_ASSIGN_OR_RETURN(int64_t reason, Number(arg, 0, 0, 10));
  // RFC 5280 §5.3.1: 7 is unused; certificateHold (6) and removeFromCRL (8)
  // are refused as by `certvault-ca revoke`.
  if (reason == 6 || reason == 7 || reason == 8) return InvalidArgumentError("reason code not accepted");
  std::vector<Revocation> revs;
  std::set<std::string> seen;
  std::istringstream in(std::string(request.body.begin(), request.body.end()));
  for (std::string word; in >> word;) {
    CV_ASSIGN_OR_RETURN(std::string serial, NormalizeSerialHex(word));
    if (!seen.insert(serial).second) return InvalidArgumentError("serial " + serial + " is given twice");
    revs.push_back({serial, static_cast<int>(reason), 0});
  }
  if (revs.empty() || revs.size() > 10000) return InvalidArgumentError("give 1 to 10000 serials");
  std::vector<std::string> serials(seen.begin(), seen.end());
  CV_RETURN_IF_ERROR(Allow(call, Action::kRevoke, Join(serials, " ")));
  std::lock_guard<std::mutex> lock(db_mu_);
  CV_ASSIGN_OR_RETURN(auto groups, ByGeneration(std::move(revs)));
  size_t count = 0;
  for (auto& [name, group] : groups) {
    count += group.size();
    CV_RETURN_IF_ERROR(deps_.db->Revoke(name, group, static_cast<int64_t>(std::time(nullptr)), ActorText(call.who)));
  }
  Text(reply, 200, "revoked " + std::to_string(count) + " certificate(s)");
  return OkStatus();
}

void AdminService::SetGeneration(std::string ca_name, X509* issuing,
                                 std::vector<std::pair<std::string, X509*>> retired) {
  auto gen = std::make_shared<const Generation>(Generation{std::move(ca_name), issuing, std::move(retired)});
  std::lock_guard<std::mutex> lock(gen_mu_);
  gen_ = std::move(gen);
}

std::shared_ptr<const AdminService::Generation> AdminService::CurrentGeneration() const {
  std::lock_guard<std::mutex> lock(gen_mu_);
  return gen_;
}

// ByGeneration: `revs` grouped by the generation whose database CA holds
// each serial (current, then live retired); a serial none holds goes to the
// current one, whose Revoke then names it. REQUIRES: db_mu_ held.
Result<std::vector<std::pair<std::string, std::vector<Revocation>>>> AdminService::ByGeneration(
    std::vector<Revocation> revs) {
  std::shared_ptr<const Generation> gen = CurrentGeneration();
  std::vector<std::pair<std::string, std::vector<Revocation>>> groups{{gen->ca_name, {}}};
  for (const auto& [name, cert] : gen->retired) groups.push_back({name, {}});
  for (Revocation& r : revs) {
    size_t at = 0;
    for (size_t i = 0; i < groups.size(); ++i) {
      Result<CertRecord> rec = deps_.db->FindBySerial(groups[i].first, r.serial);
      if (rec.ok()) {
        at = i;
        break;
      }
      if (rec.status().code() != StatusCode::kNotFound) return rec.status();
    }
    groups[at].second.push_back(std::move(r));
  }
  std::erase_if(groups, [](const auto& g) { return g.second.empty(); });
  return groups;
}

Status AdminService::Users(Call& call, HttpReply& reply) {
  std::lock_guard<std::mutex> lock(db_mu_);
  CV_ASSIGN_OR_RETURN(std::vector<Identity> ids, roles_.List(call.who));
  std::string out;
  for (const Identity& id : ids) out += id.name + "\t" + Join(id.roles, ",") + "\t" + id.cert_serial + "\n";
  Text(reply, 200, out);
  return OkStatus();
}

// UserChange: NAME/remove, NAME/grant/ROLE, NAME/revoke/ROLE.
Status AdminService::UserChange(const std::string& rest, Call& call, HttpReply& reply) {
  std::vector<std::string> parts = SplitPath(rest);
  std::lock_guard<std::mutex> lock(db_mu_);
  if (parts.size() == 2 && parts[1] == "remove") {
    CV_RETURN_IF_ERROR(roles_.RemoveUser(call.who, parts[0]));
    Text(reply, 200, "removed " + parts[0]);
    return OkStatus();
  }
  if (parts.size() != 3 || (parts[1] != "grant" && parts[1] != "revoke")) return NotFoundError("unknown user route");
  CV_ASSIGN_OR_RETURN(Role role, ParseRole(parts[2]));
  CV_RETURN_IF_ERROR(roles_.SetRole(call.who, parts[0], role, parts[1] == "grant"));
  Text(reply, 200, parts[0] + ": " + parts[1] + " " + parts[2]);
  return OkStatus();
}

Status AdminService::Audit(const HttpRequest& request, Call& call, HttpReply& reply) {
  std::string arg = request.path.size() > kPrefix.size() + 6 ? request.path.substr(kPrefix.size() + 6) : "";
  CV_ASSIGN_OR_RETURN(int64_t limit, Number(arg, 50, 1, 100000));
  CV_RETURN_IF_ERROR(Allow(call, Action::kReadAudit, "audit"));
  std::lock_guard<std::mutex> lock(db_mu_);
  CV_ASSIGN_OR_RETURN(std::vector<AuditEvent> events, deps_.db->ListAudit(static_cast<size_t>(limit)));
  std::string out;
  for (const AuditEvent& e : events) {
    out += std::to_string(e.at) + "\t" + e.actor + "\t" + e.action + "\t" + e.object + "\t" + e.detail + "\n";
  }
  Text(reply, 200, out);
  return OkStatus();
}

}  // namespace certvault::ca
