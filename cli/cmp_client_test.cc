// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/cmp_client.h"

#include <gtest/gtest.h>

namespace certvault::cli {
namespace {

TEST(CmpClient, ParsesHttpAndHttpsUrls) {
  auto u = ParseCmpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, ".well-known/cmp");
  u = ParseCmpUrl("https://ca.example.com/.well-known/cmp/p/device");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, ".well-known/cmp/p/device");
  u = ParseCmpUrl("http://ca");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_FALSE(ParseCmpUrl("ftp://ca").ok());
  EXPECT_FALSE(ParseCmpUrl("https://:443").ok());
  EXPECT_FALSE(ParseCmpUrl("https://ca:0").ok());
  EXPECT_FALSE(ParseCmpUrl("http://ca:44x3").ok());
}

TEST(CmpClient, ParsesRevocationReasons) {
  EXPECT_EQ(*ParseRevocationReason("keyCompromise"), 1);
  EXPECT_EQ(*ParseRevocationReason("4"), 4);
  EXPECT_FALSE(ParseRevocationReason("7").ok());  // RFC 5280 §5.3.1: value 7 is not used
  EXPECT_FALSE(ParseRevocationReason("bogus").ok());
}

}  // namespace
}  // namespace certvault::cli
