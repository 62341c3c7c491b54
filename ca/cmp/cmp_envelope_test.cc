// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/cmp/cmp_envelope.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace certvault::ca::cmp {
namespace {

Bytes Seed(const std::string& name) {
  std::ifstream in(std::string(CV_SOURCE_DIR) + "/fuzz/corpus/cmp_message_fuzzer/" + name, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(CmpEnvelope, SignedAndMacRequests) {
  Bytes cr = Seed("cr.der");
  ASSERT_FALSE(cr.empty());
  auto env = DecodeEnvelope(cr);
  ASSERT_TRUE(env.ok()) << env.status().message();
  EXPECT_EQ(env->body_type, kCr);
  EXPECT_TRUE(env->protected_);
  EXPECT_FALSE(env->pbm);
  EXPECT_EQ(env->transaction_id.size(), 16u);
  // The seed's signer is self-signed, which OpenSSL's client leaves out of
  // extraCerts; ca_cmp covers a bootstrap certificate in extraCerts.
  EXPECT_TRUE(env->extra_certs.empty());

  Bytes irmac = Seed("irmac.der");  // the envelope's spans point into it
  auto mac = DecodeEnvelope(irmac);
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(mac->body_type, kIr);
  EXPECT_TRUE(mac->pbm);
  EXPECT_EQ(std::string(mac->sender_kid.begin(), mac->sender_kid.end()), "kid1");

  Bytes rr_der = Seed("rr.der");
  auto rr = DecodeEnvelope(rr_der);
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->body_type, kRr);
  auto reason = RevocationReason(rr->body);
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, 1);  // keyCompromise, as -revreason 1 asked
}

// Every truncation and one flipped length byte: an error, never a crash.
TEST(CmpEnvelope, TruncatedAndBitFlipped) {
  Bytes cr = Seed("cr.der");
  for (size_t n = 0; n < cr.size(); ++n) {
    EXPECT_FALSE(DecodeEnvelope(std::span<const uint8_t>(cr.data(), n)).ok()) << n;
  }
  Bytes bad = cr;
  bad[1] ^= 0x01;
  EXPECT_FALSE(DecodeEnvelope(bad).ok());
  Bytes trailing = cr;
  trailing.push_back(0);
  EXPECT_FALSE(DecodeEnvelope(trailing).ok());
}

}  // namespace
}  // namespace certvault::ca::cmp
