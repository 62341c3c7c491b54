// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/issuance/name_constraints.h"

#include <gtest/gtest.h>

namespace certvault::ca {
namespace {

using Kind = x509::SanEntry::Kind;

Status Check(const NameConstraintSet& nc, const std::string& cn, std::vector<x509::SanEntry> sans) {
  return CheckNameConstraints(nc, {{"CN", cn}}, sans);
}

// RFC 5280 §4.2.1.10: "devices.example.com" admits itself and names below
// it; ".devices.example.com" (older form) only names below it.
TEST(NameConstraints, DnsSubtreesAndDnsLikeCn) {
  NameConstraintSet nc;
  nc.permitted.dns = {"devices.example.com"};
  nc.excluded.dns = {"bad.devices.example.com"};
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kDns, "a.devices.example.com"}}).ok());
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kDns, "Devices.Example.COM"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kDns, "xdevices.example.com"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kDns, "evil.example.org"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kDns, "x.bad.devices.example.com"}}).ok());
  EXPECT_EQ(Check(nc, "www.bank.example.org", {{Kind::kDns, "a.devices.example.com"}}).code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(Check(nc, "Device 42", {}).ok()) << "a CN that is no DNS name is not a dNSName";
  nc.permitted.dns = {".devices.example.com"};
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kDns, "devices.example.com"}}).ok());
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kDns, "a.devices.example.com"}}).ok());
}

TEST(NameConstraints, OtherTypesAreConstrainedOnlyWhenListed) {
  NameConstraintSet nc;
  nc.permitted.dns = {"devices.example.com"};
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kEmail, "a@anywhere.example"}}).ok());
  nc.permitted.email = {"example.com"};
  nc.permitted.ip = {Bytes{192, 0, 2, 0, 255, 255, 255, 0}};
  nc.permitted.uri = {".example.com"};
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kEmail, "a@example.com"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kEmail, "a@sub.example.com"}}).ok());
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kIp, "192.0.2.7"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kIp, "198.51.100.1"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kIp, "2001:db8::1"}}).ok());
  EXPECT_TRUE(Check(nc, "dev", {{Kind::kUri, "https://a.example.com:8443/x"}}).ok());
  EXPECT_FALSE(Check(nc, "dev", {{Kind::kUri, "https://example.org/"}}).ok());
}

}  // namespace
}  // namespace certvault::ca
