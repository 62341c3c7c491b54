// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/server_config.h"

#include <cpptoml.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ca/config/toml_util.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

std::string Absolute(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

Status LoadRules(const cpptoml::table& server, std::vector<AuthzRule>& out) {
  auto rules = server.get_table_array("authorize");
  if (rules == nullptr) {
    if (server.contains("authorize")) return InvalidArgumentError("ca.toml: [[server.authorize]] must be tables");
    return OkStatus();
  }
  for (const auto& t : *rules) {
    AuthzRule r;
    CV_RETURN_IF_ERROR(GetString(*t, "issuer", r.issuer));
    CV_RETURN_IF_ERROR(GetString(*t, "subject", r.subject));
    CV_RETURN_IF_ERROR(GetStrings(*t, "profiles", r.profiles));
    CV_RETURN_IF_ERROR(GetBool(*t, "revoke", r.revoke));
    if (r.issuer.empty() || (r.profiles.empty() && !r.revoke)) {
      return InvalidArgumentError("ca.toml: [[server.authorize]] needs issuer and profiles (or revoke = true)");
    }
    out.push_back(std::move(r));
  }
  return OkStatus();
}

Status LoadAdmin(const cpptoml::table& server, AdminConfig& a) {
  auto t = server.get_table("admin");
  if (t == nullptr) return OkStatus();
  CV_RETURN_IF_ERROR(GetBool(*t, "enabled", a.enabled));
  CV_RETURN_IF_ERROR(GetStrings(*t, "allow", a.allow));
  CV_RETURN_IF_ERROR(GetUint(*t, "rate_per_minute", 0, 1000000, a.rate_per_minute));
  for (const std::string& entry : a.allow) {
    in_addr net{};
    std::string ip = entry.substr(0, entry.find('/'));
    in6_addr net6{};
    if (inet_pton(AF_INET, ip.c_str(), &net) != 1 && (entry.find('/') != std::string::npos ||
                                                      inet_pton(AF_INET6, ip.c_str(), &net6) != 1)) {
      return InvalidArgumentError("ca.toml: [server.admin] allow: '" + entry + "' is not an address or IPv4 CIDR");
    }
  }
  return OkStatus();
}

Status LoadServerTable(const cpptoml::table& s, const std::string& dir, ServerConfig& c) {
  CV_RETURN_IF_ERROR(GetString(s, "bind", c.bind));
  CV_RETURN_IF_ERROR(GetUint(s, "http_port", 0, 65535, c.http_port));
  CV_RETURN_IF_ERROR(GetUint(s, "https_port", 0, 65535, c.https_port));
  CV_RETURN_IF_ERROR(GetString(s, "tls_min_version", c.tls_min_version));
  if (c.tls_min_version != "1.3" && c.tls_min_version != "1.2") {
    return InvalidArgumentError("ca.toml: [server] tls_min_version must be \"1.3\" or \"1.2\"");
  }
  CV_RETURN_IF_ERROR(GetString(s, "tls_cert", c.tls_cert));
  CV_RETURN_IF_ERROR(GetString(s, "tls_key_label", c.tls_key_label));
  CV_RETURN_IF_ERROR(GetString(s, "provider_module", c.provider_module));
  CV_RETURN_IF_ERROR(GetStrings(s, "client_anchors", c.client_anchors));
  CV_RETURN_IF_ERROR(GetString(s, "default_profile", c.default_profile));
  CV_RETURN_IF_ERROR(GetStrings(s, "enroll_code_profiles", c.enroll_code_profiles));
  CV_RETURN_IF_ERROR(GetUint(s, "enroll_code_hours", 1, 24 * 365, c.enroll_code_hours));
  CV_RETURN_IF_ERROR(GetUint(s, "threads", 1, 256, c.threads));
  CV_RETURN_IF_ERROR(GetUint(s, "max_connections", 1, 65536, c.max_connections));
  CV_RETURN_IF_ERROR(GetUint(s, "max_body_bytes", 256, 1 << 20, c.max_body_bytes));
  CV_RETURN_IF_ERROR(GetUint(s, "timeout_s", 1, 3600, c.timeout_s));
  CV_RETURN_IF_ERROR(GetString(s, "access_log", c.access_log));
  c.tls_cert = Absolute(dir, c.tls_cert);
  c.access_log = Absolute(dir, c.access_log);
  for (std::string& a : c.client_anchors) a = Absolute(dir, a);
  CV_RETURN_IF_ERROR(LoadAdmin(s, c.admin));
  return LoadRules(s, c.authorize);
}

}  // namespace

Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& dir, const std::string& ca_name) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<cpptoml::table> root, ParseToml(text, "ca.toml"));
  ServerConfig c;
  c.tls_cert = "server.pem";
  try {
    if (auto server = root->get_table("server")) CV_RETURN_IF_ERROR(LoadServerTable(*server, dir, c));
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("ca.toml: [server]: ") + e.what());
  }
  c.tls_cert = Absolute(dir, c.tls_cert);
  if (c.tls_key_label.empty()) c.tls_key_label = ca_name + "-tls";
  return c;
}

Result<ServerConfig> LoadServerConfig(const std::string& dir, const std::string& ca_name) {
  std::ifstream in(dir + "/ca.toml");
  if (!in) return NotFoundError("no ca.toml in " + dir);
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseServerConfig(buf.str(), dir, ca_name);
}

bool AddressAllowed(const std::vector<std::string>& allow, const std::string& address) {
  if (allow.empty()) return true;
  in_addr addr{};
  bool v4 = inet_pton(AF_INET, address.c_str(), &addr) == 1;
  for (const std::string& entry : allow) {
    size_t slash = entry.find('/');
    if (slash == std::string::npos) {
      if (entry == address) return true;
      continue;
    }
    in_addr net{};
    int bits = std::atoi(entry.c_str() + slash + 1);
    if (!v4 || bits < 0 || bits > 32 || inet_pton(AF_INET, entry.substr(0, slash).c_str(), &net) != 1) continue;
    uint32_t mask = bits == 0 ? 0 : htonl(~uint32_t{0} << (32 - bits));
    if ((addr.s_addr & mask) == (net.s_addr & mask)) return true;
  }
  return false;
}

std::vector<std::string> ProfilesFor(const std::vector<AuthzRule>& rules, const std::string& issuer,
                                     const std::string& subject) {
  std::vector<std::string> out;
  for (const AuthzRule& r : rules) {
    if (r.issuer != issuer || (!r.subject.empty() && r.subject != subject)) continue;
    for (const std::string& p : r.profiles) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

bool MayRevoke(const std::vector<AuthzRule>& rules, const std::string& issuer, const std::string& subject) {
  return std::any_of(rules.begin(), rules.end(), [&](const AuthzRule& r) {
    return r.revoke && r.issuer == issuer && (r.subject.empty() || r.subject == subject);
  });
}

}  // namespace certvault::ca
