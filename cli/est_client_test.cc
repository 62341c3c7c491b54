// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/est_client.h"

#include <gtest/gtest.h>

namespace certvault::cli {
namespace {

TEST(EstClient, ParsesUrls) {
  auto u = ParseEstUrl("https://127.0.0.1:8443");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8443");
  EXPECT_EQ(u->base, "/.well-known/est");
  u = ParseEstUrl("https://ca.example.com/.well-known/est/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->base, "/.well-known/est");
  u = ParseEstUrl("https://[::1]:9000/x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->base, "/x");
  u = ParseEstUrl("https://[::1]");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "443");
  // RFC 7030 §3.3: HTTPS only; malformed authorities refused.
  EXPECT_FALSE(ParseEstUrl("http://ca:80").ok());
  EXPECT_FALSE(ParseEstUrl("https://:443").ok());
  EXPECT_FALSE(ParseEstUrl("https://ca:44x3").ok());
  EXPECT_FALSE(ParseEstUrl("https://ca:").ok());
}

TEST(EstClient, NormalizesFingerprints) {
  std::string hex(64, 'a');
  auto f = NormalizeFingerprint("AA:" + std::string(62, 'A'));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, hex);
  EXPECT_FALSE(NormalizeFingerprint(std::string(62, 'a')).ok());  // SHA-1 length or short
  EXPECT_FALSE(NormalizeFingerprint(std::string(63, 'a') + "g").ok());
  EXPECT_FALSE(NormalizeFingerprint("").ok());
}

TEST(EstClient, RefusesAnswersThatAreNotCertsOnly) {
  EXPECT_FALSE(DecodeCertsOnly("").ok());
  EXPECT_FALSE(DecodeCertsOnly("!!!!").ok());
  EXPECT_FALSE(DecodeCertsOnly("abc").ok());                      // not a multiple of 4
  EXPECT_FALSE(DecodeCertsOnly(Base64(AsSpan("hello"))).ok());    // base64, not PKCS#7
  const uint8_t seq[] = {0x30, 0x03, 0x02, 0x01, 0x01};            // DER, not PKCS#7
  EXPECT_FALSE(DecodeCertsOnly(Base64(seq)).ok());
}

TEST(EstClient, Base64AndSha256) {
  EXPECT_EQ(Base64(AsSpan("id:pw")), "aWQ6cHc=");
  auto h = Sha256Hex(AsSpan(""));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(EstClient, VerifyChainRefusesGarbage) {
  EXPECT_FALSE(VerifyChain(Bytes{1, 2, 3}, {}, {}).ok());
}

}  // namespace
// RFC 7030 §4.4.2 answers: two parts, their types, contents as sent.
TEST(EstClient, SplitsMultipartAnswers) {
  const std::string body =
      "--b1Xy\r\nContent-Type: application/pkcs7-mime; smime-type=server-generated-key\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b1Xy\r\nContent-Type: application/pkcs7-mime; "
      "smime-type=certs-only\r\n\r\nBBBB\r\n--b1Xy--\r\n";
  auto parts = SplitMultipart("multipart/mixed; boundary=b1Xy", body);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "AAAA");
  EXPECT_NE((*parts)[0].content_type.find("server-generated-key"), std::string::npos);
  EXPECT_EQ((*parts)[1].body, "BBBB");
  EXPECT_TRUE(SplitMultipart("multipart/mixed; boundary=\"b1Xy\"", body).ok());
  // The boundary is case-sensitive; no boundary, no closing delimiter, truncation: refused.
  EXPECT_FALSE(SplitMultipart("multipart/mixed; boundary=B1XY", body).ok());
  EXPECT_FALSE(SplitMultipart("multipart/mixed", body).ok());
  EXPECT_FALSE(SplitMultipart("application/pkcs7-mime", body).ok());
  for (size_t n = 0; n < body.size() - 4; n += 7) {
    EXPECT_FALSE(SplitMultipart("multipart/mixed; boundary=b1Xy", body.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeBase64("A=A").ok());
  auto b = DecodeBase64("AAEC");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (Bytes{0, 1, 2}));
}

}  // namespace certvault::cli
