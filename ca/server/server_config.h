// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ServerConfig: the [server] table of ca.toml for `certvault-ca serve`
// (keys in docs/config.md). It is read here, apart from CaConfig, from the
// same file; unknown keys are ignored by both.
//
//   [server]
//   http_port = 8080                 # plain HTTP: CRL and OCSP (0 = off)
//   https_port = 8443                # EST over TLS (0 = off)
//   tls_min_version = "1.3"          # or "1.2"
//   tls_cert = "server.pem"          # written by `certvault-ca server-cert`
//   client_anchors = ["bootstrap-ca.pem"]
//   [[server.authorize]]             # who may enroll into which profiles
//   issuer = "/CN=Bootstrap CA/O=Example"
//   subject = "/CN=terminal-1"       # optional: one certificate subject only
//   profiles = ["device"]
//   revoke = true                    # optional: a revocation operator (CMP rr)
//   [server.admin]                   # the admin API (docs/design/roles.md)
//   allow = ["127.0.0.1", "10.1.0.0/16"]
//   rate_per_minute = 120
#ifndef CERTVAULT_CA_SERVER_SERVER_CONFIG_H_
#define CERTVAULT_CA_SERVER_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "src/base/result.h"

namespace certvault::ca {

struct AuthzRule {
  std::string issuer;                 // the client certificate's issuer DN, "/CN=.../O=..." form
  std::string subject;                // "" = any subject from that issuer
  std::vector<std::string> profiles;  // the profiles this identity may enroll into
  bool revoke = false;                // a revocation operator: may revoke any certificate of this CA (CMP rr)
};

// AdminConfig: [server.admin], the admin API (docs/design/roles.md).
struct AdminConfig {
  bool enabled = true;                 // /admin/v1/ on the HTTPS listener
  std::vector<std::string> allow;      // client IPs or IPv4 CIDRs ("10.0.0.0/8"); empty = any
  uint32_t rate_per_minute = 0;        // requests per identity per minute; 0 = no limit
};

struct ServerConfig {
  std::string bind = "127.0.0.1";     // both listeners
  uint32_t http_port = 0;             // 0: no plain HTTP listener
  uint32_t https_port = 0;            // 0: no EST listener
  std::string tls_min_version = "1.3";
  std::string tls_cert;               // absolute; default DIR/server.pem
  std::string tls_key_label;          // token label; default "<ca name>-tls"
  std::string provider_module;        // certvault's OpenSSL provider (certvault.so)
  std::vector<std::string> client_anchors;  // absolute PEM paths, besides this CA's chain
  std::string default_profile;        // the profile of requests without a label ("" = a label is required)
  std::vector<std::string> enroll_code_profiles;  // profiles `enroll-code` may create codes for
  uint32_t enroll_code_hours = 24;
  uint32_t threads = 16;             // HTTP threads; a certificate-authenticated enrollment waits for its commit without one
  uint32_t max_connections = 256;
  uint32_t max_body_bytes = 16384;
  uint32_t timeout_s = 30;            // inactivity limit on the handshake, headers and body
  std::string access_log;             // a file; "" = standard error
  std::vector<AuthzRule> authorize;
  AdminConfig admin;
};

// LoadServerConfig: [server] of DIR/ca.toml (`ca_name` gives the default
// key label). kInvalidArgument naming the key for a bad value.
Result<ServerConfig> LoadServerConfig(const std::string& dir, const std::string& ca_name);
// ParseServerConfig: the same from text (tests).
Result<ServerConfig> ParseServerConfig(const std::string& text, const std::string& dir, const std::string& ca_name);
// AddressAllowed: `address` (IPv4 or IPv6 text) matches one entry of
// `allow` (an address, or an IPv4 CIDR); an empty list allows all.
bool AddressAllowed(const std::vector<std::string>& allow, const std::string& address);
// ProfilesFor: the profiles `rules` grant to a certificate with these
// issuer and subject names ("/CN=..." form).
std::vector<std::string> ProfilesFor(const std::vector<AuthzRule>& rules, const std::string& issuer,
                                     const std::string& subject);

// MayRevoke: whether a rule with `revoke = true` matches the certificate
// with these issuer and subject names (revocation operators, CMP rr).
bool MayRevoke(const std::vector<AuthzRule>& rules, const std::string& issuer, const std::string& subject);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_SERVER_CONFIG_H_
