// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/keyref.h"

#include <gtest/gtest.h>

namespace certvault::provider {
namespace {

TEST(KeyRef, RoundTrip) {
  KeyRef ref{"certvault:token=plant;object=web;type=private;id=%01%02"};
  std::string file = FormatKeyRef(ref);
  EXPECT_TRUE(file.starts_with("-----BEGIN CERTVAULT KEY-----\n"));
  auto parsed = ParseKeyRef(file);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->uri, ref.uri);
}

TEST(KeyRef, LongUriWrapsAndParses) {
  KeyRef ref{"certvault:token=" + std::string(300, 'a') + ";object=web"};
  std::string file = FormatKeyRef(ref);
  EXPECT_GT(std::count(file.begin(), file.end(), '\n'), 4);
  auto parsed = ParseKeyRef(file);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->uri, ref.uri);
}

TEST(KeyRef, AcceptsLeadingTextAndCrlf) {
  std::string file = FormatKeyRef(KeyRef{"certvault:object=a"});
  std::string crlf;
  for (char c : file) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_TRUE(ParseKeyRef("comment line\n" + crlf).ok());
}

TEST(KeyRef, RejectsCorruptFiles) {
  std::string good = FormatKeyRef(KeyRef{"certvault:object=a"});
  std::string no_end = good.substr(0, good.find("-----END"));
  std::string bad_b64 = good;
  bad_b64[31] = '*';
  std::string truncated_b64 = good;
  truncated_b64.erase(31, 1);
  for (const std::string& text :
       {std::string(), std::string("garbage"), no_end, bad_b64, truncated_b64, FormatKeyRef(KeyRef{"pkcs11:object=a"}),
        FormatKeyRef(KeyRef{"certvault:object=a;bogus=1"}), FormatKeyRef(KeyRef{"certvault:object=a?pin-value=1234"}),
        std::string(kKeyRefBegin) + "\n" + std::string(kKeyRefEnd), good + std::string(kMaxKeyRefSize, ' ')}) {
    auto parsed = ParseKeyRef(text);
    EXPECT_FALSE(parsed.ok()) << text;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(std::string(parsed.status().message()).find("key-reference"), std::string::npos);
    }
  }
}

TEST(KeyRef, ErrorNeverShowsPin) {
  auto parsed = ParseKeyRef(FormatKeyRef(KeyRef{"certvault:object=a?pin-value=s3cr3t"}));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(std::string(parsed.status().message()).find("s3cr3t"), std::string::npos);
}

TEST(KeyRef, HasBlockOnlyAtLineStart) {
  EXPECT_TRUE(HasKeyRefBlock(std::string(kKeyRefBegin)));
  EXPECT_TRUE(HasKeyRefBlock("x\n" + std::string(kKeyRefBegin)));
  EXPECT_FALSE(HasKeyRefBlock("x" + std::string(kKeyRefBegin)));
  EXPECT_FALSE(HasKeyRefBlock("-----BEGIN PRIVATE KEY-----"));
}

TEST(KeyUri, SchemesAndClaim) {
  EXPECT_TRUE(ParseKeyUri("certvault:object=a", false).ok());
  EXPECT_FALSE(ParseKeyUri("pkcs11:object=a", false).ok());
  EXPECT_TRUE(ParseKeyUri("pkcs11:object=a", true).ok());
  EXPECT_FALSE(ParseKeyUri("file:/etc/passwd", true).ok());
  EXPECT_FALSE(ParseKeyUri("certvault:object=a;slot-id=1", false).ok());
  EXPECT_FALSE(ParseKeyUri("certvault:object=a?module-path=/x.so", false).ok());
}

}  // namespace
}  // namespace certvault::provider
