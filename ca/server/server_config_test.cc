// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/server_config.h"

#include <gtest/gtest.h>

namespace certvault::ca {
namespace {

TEST(ServerConfigTest, DefaultsAndRules) {
  auto c = ParseServerConfig(R"(
[server]
https_port = 8443
client_anchors = ["boot.pem"]
[[server.authorize]]
issuer = "/CN=Boot"
profiles = ["device"]
[[server.authorize]]
issuer = "/CN=Boot"
subject = "/CN=terminal-1"
profiles = ["device", "server"]
)", "/ca", "factory");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->tls_min_version, "1.3");
  EXPECT_EQ(c->tls_cert, "/ca/server.pem");
  EXPECT_EQ(c->tls_key_label, "factory-tls");
  EXPECT_EQ(c->client_anchors[0], "/ca/boot.pem");
  EXPECT_EQ(ProfilesFor(c->authorize, "/CN=Boot", "/CN=x"), std::vector<std::string>{"device"});
  EXPECT_EQ(ProfilesFor(c->authorize, "/CN=Boot", "/CN=terminal-1"), (std::vector<std::string>{"device", "server"}));
  EXPECT_TRUE(ProfilesFor(c->authorize, "/CN=Other", "/CN=terminal-1").empty());
}

TEST(ServerConfigTest, RefusesBadValues) {
  EXPECT_FALSE(ParseServerConfig("[server]\ntls_min_version = \"1.1\"\n", "/ca", "x").ok());
  EXPECT_FALSE(ParseServerConfig("[server]\nhttps_port = 70000\n", "/ca", "x").ok());
  EXPECT_FALSE(ParseServerConfig("[server]\n[[server.authorize]]\nprofiles = [\"a\"]\n", "/ca", "x").ok());
  EXPECT_FALSE(ParseServerConfig("[server]\n[[server.authorize]]\nissuer = \"/CN=a\"\n", "/ca", "x").ok());
  EXPECT_FALSE(ParseServerConfig("[server]\nmax_body_bytes = \"big\"\n", "/ca", "x").ok());
}

TEST(ServerConfigTest, RevocationOperators) {
  auto c = ParseServerConfig(R"([server]
[[server.authorize]]
issuer = "/CN=Boot"
subject = "/CN=revoker"
revoke = true
[[server.authorize]]
issuer = "/CN=Boot"
profiles = ["device"]
)", "/ca", "factory");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(MayRevoke(c->authorize, "/CN=Boot", "/CN=revoker"));
  EXPECT_FALSE(MayRevoke(c->authorize, "/CN=Boot", "/CN=terminal-1"));  // enrolls, does not revoke
  EXPECT_FALSE(MayRevoke(c->authorize, "/CN=Other", "/CN=revoker"));
  EXPECT_TRUE(ProfilesFor(c->authorize, "/CN=Boot", "/CN=revoker") == std::vector<std::string>{"device"});
}

TEST(ServerConfigTest, AdminAllowListAndRate) {
  auto c = ParseServerConfig("[server]\n[server.admin]\nallow = [\"127.0.0.1\", \"10.1.0.0/16\", \"::1\"]\n"
                             "rate_per_minute = 5\n", "/ca", "x");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->admin.enabled);
  EXPECT_EQ(c->admin.rate_per_minute, 5u);
  EXPECT_TRUE(AddressAllowed(c->admin.allow, "127.0.0.1"));
  EXPECT_TRUE(AddressAllowed(c->admin.allow, "10.1.255.3"));
  EXPECT_TRUE(AddressAllowed(c->admin.allow, "::1"));
  EXPECT_FALSE(AddressAllowed(c->admin.allow, "10.2.0.1"));
  EXPECT_FALSE(AddressAllowed(c->admin.allow, "127.0.0.2"));
  EXPECT_TRUE(AddressAllowed({}, "192.0.2.1"));
  EXPECT_FALSE(ParseServerConfig("[server.admin]\nallow = [\"ten\"]\n", "/ca", "x").ok());
  EXPECT_FALSE(ParseServerConfig("[server.admin]\nallow = [\"::1/64\"]\n", "/ca", "x").ok());
}

}  // namespace
}  // namespace certvault::ca
