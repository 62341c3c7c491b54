// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/remote/admin_client.h"

#include <gtest/gtest.h>

namespace certvault::ca {
namespace {

TEST(AdminClientTest, ServerUrl) {
  std::string host, port;
  ASSERT_TRUE(ParseServerUrl("https://ca.example.com:8443/", host, port).ok());
  EXPECT_EQ(host, "ca.example.com");
  EXPECT_EQ(port, "8443");
  ASSERT_TRUE(ParseServerUrl("https://127.0.0.1", host, port).ok());
  EXPECT_EQ(port, "443");
  for (const char* bad : {"http://ca:8443", "https://", "https://ca:", "https://ca:84x3", "https://ca/admin",
                          "https://user@ca", "https://ca:123456", "ca:8443"}) {
    EXPECT_EQ(ParseServerUrl(bad, host, port).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AdminClientTest, IdentityUriBecomesTheProvidersAndCarriesNoPin) {
  EXPECT_EQ(*IdentityStoreUri("pkcs11:token=alice;object=op"), "certvault:token=alice;object=op");
  EXPECT_EQ(*IdentityStoreUri("certvault:token=ops;id=%01"), "certvault:token=ops;id=%01");
  for (const char* bad : {"pkcs11:token=alice;object=op?pin-value=1234", "file:/etc/key.pem", "pkcs11:token=alice",
                          "", "op"}) {
    EXPECT_EQ(IdentityStoreUri(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace certvault::ca
