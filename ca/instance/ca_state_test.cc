// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/ca_state.h"

#include <gtest/gtest.h>

#include <string>

namespace certvault::ca {
namespace {

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(CaState, RoundTripsAndMergesToTheMaximum) {
  CaState a;
  a.last_signed = 100;
  a.crl_numbers[{"f-issuing", 0}] = 5;
  a.revocation_ids["f-issuing"] = 11;
  auto back = CaState::Decode(a.Encode());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->last_signed, 100);
  EXPECT_EQ((back->crl_numbers[{"f-issuing", 0}]), 5);
  EXPECT_EQ(back->revocation_ids["f-issuing"], 11);
  CaState b;
  b.last_signed = 50;
  b.crl_numbers[{"f-issuing", 0}] = 7;
  b.crl_numbers[{"f-root", 0}] = 1;
  b.revocation_ids["f-issuing"] = 3;
  a.Merge(b);
  EXPECT_EQ(a.last_signed, 100);
  EXPECT_EQ((a.crl_numbers[{"f-issuing", 0}]), 7);
  EXPECT_EQ((a.crl_numbers[{"f-root", 0}]), 1);
  EXPECT_EQ(a.revocation_ids["f-issuing"], 11);
}

TEST(CaState, EmptyIsFreshAndGarbageIsDataLoss) {
  auto empty = CaState::Decode({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->last_signed, 0);
  for (const char* bad : {"hello", "certvault-ca-state 1\ncrl x\n", "certvault-ca-state 1\nwhat 1\n",
                          "certvault-ca-state 2\n"}) {
    auto r = CaState::Decode(B(bad));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace certvault::ca
