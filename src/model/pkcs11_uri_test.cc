// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/model/pkcs11_uri.h"

#include <gtest/gtest.h>

#include <string>

namespace certvault {
namespace {

TEST(Pkcs11Uri, ParsesRfc7512Example) {
  // RFC 7512 §3 example.
  auto uri = ParsePkcs11Uri(
      "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;"
      "object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin");
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(uri->token, "The Software PKCS#11 Softtoken");
  EXPECT_EQ(uri->manufacturer, "Snake Oil, Inc.");
  EXPECT_EQ(uri->model, "1.0");
  EXPECT_EQ(uri->object, "my-certificate");
  EXPECT_EQ(uri->type, CKO_CERTIFICATE);
  EXPECT_EQ(uri->id, (Bytes{0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91}));
  EXPECT_EQ(uri->serial, "");
  EXPECT_EQ(uri->pin_source, "file:/etc/token_pin");
}

TEST(Pkcs11Uri, EmptyUriMatchesEverything) {
  auto uri = ParsePkcs11Uri("pkcs11:");
  ASSERT_TRUE(uri.ok());
  EXPECT_FALSE(uri->token.has_value());
  EXPECT_FALSE(uri->id.has_value());
  EXPECT_EQ(FormatPkcs11Uri(*uri), "pkcs11:");
}

TEST(Pkcs11Uri, SchemeIsCaseInsensitive) { EXPECT_TRUE(ParsePkcs11Uri("PKCS11:token=a").ok()); }

TEST(Pkcs11Uri, PinValueIsSecretAndNeverPrinted) {
  auto uri = ParsePkcs11Uri("pkcs11:token=t?pin-value=12%334");
  ASSERT_TRUE(uri.ok());
  ASSERT_TRUE(uri->pin_value.has_value());
  EXPECT_EQ(uri->pin_value->AsStringView(SecretAccess::Get()), "1234");
  EXPECT_EQ(FormatPkcs11Uri(*uri).find("1234"), std::string::npos);
  EXPECT_EQ(FormatPkcs11Uri(*uri).find("pin-value"), std::string::npos);
}

TEST(Pkcs11Uri, VendorAttributesIgnored) {
  auto uri = ParsePkcs11Uri("pkcs11:x-vendor=1;token=a?x-q=2");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->token, "a");
}

TEST(Pkcs11Uri, RoundTrip) {
  Pkcs11Uri uri;
  uri.token = "my token;&?%/";
  uri.manufacturer = "certvault";
  uri.serial = "0001";
  uri.object = "web key";
  uri.type = CKO_PRIVATE_KEY;
  uri.id = Bytes{0x00, 0x41, 0xff};
  uri.slot_id = 7;
  uri.module_path = "/usr/lib/x.so";
  std::string text = FormatPkcs11Uri(uri);
  EXPECT_EQ(text,
            "pkcs11:token=my%20token%3B%26%3F%25%2F;manufacturer=certvault;serial=0001;object=web%20key;"
            "type=private;id=%00%41%FF;slot-id=7?module-path=%2Fusr%2Flib%2Fx.so");
  auto back = ParsePkcs11Uri(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->token, uri.token);
  EXPECT_EQ(back->object, uri.object);
  EXPECT_EQ(back->type, uri.type);
  EXPECT_EQ(back->id, uri.id);
  EXPECT_EQ(back->slot_id, uri.slot_id);
  EXPECT_EQ(back->module_path, uri.module_path);
  EXPECT_EQ(FormatPkcs11Uri(*back), text);
}

TEST(Pkcs11Uri, AllTypes) {
  for (std::string t : {"private", "public", "cert", "secret-key", "data"}) {
    auto uri = ParsePkcs11Uri("pkcs11:type=" + t);
    ASSERT_TRUE(uri.ok()) << t;
    EXPECT_EQ(ObjectClassName(*uri->type), t);
  }
}

TEST(Pkcs11Uri, RejectsMalformed) {
  const char* bad[] = {
      "",                                // no scheme
      "pkcs11",                          // no colon
      "pkcs12:token=a",                  // wrong scheme
      "pkcs11:token",                    // no '='
      "pkcs11:=a",                       // empty name
      "pkcs11:token=a;token=b",          // duplicate
      "pkcs11:id=%01;id=%02",            // duplicate id
      "pkcs11:token=%",                  // truncated escape
      "pkcs11:token=%4",                 // truncated escape
      "pkcs11:token=%zz",                // bad hex
      "pkcs11:token=a b",                // space not allowed
      "pkcs11:token=a\"b",               // quote not allowed
      "pkcs11:token=a%00b",              // NUL in text
      "pkcs11:type=secret",              // unknown type
      "pkcs11:typo=a",                   // unknown attribute
      "pkcs11:token=a;",                 // empty attribute
      "pkcs11:slot-id=abc",              // not a number
      "pkcs11:slot-id=",                 // empty number
      "pkcs11:?pin-value=1&pin-source=f",  // both PIN attributes
      "pkcs11:?unknown=1",               // unknown query attribute
      "pkcs11:token=a?pin-value=1&pin-value=2",
  };
  for (const char* text : bad) {
    auto uri = ParsePkcs11Uri(text);
    EXPECT_FALSE(uri.ok()) << text;
    if (!uri.ok()) {
      EXPECT_EQ(uri.status().reason(), Reason::kArgumentsBad) << text;
    }
  }
}

TEST(Pkcs11Uri, ErrorNeverContainsPinValue) {
  auto uri = ParsePkcs11Uri("pkcs11:?pin-value=secret123%zz");
  ASSERT_FALSE(uri.ok());
  EXPECT_EQ(std::string(uri.status().message()).find("secret123"), std::string::npos);
}

TEST(Pkcs11Uri, LengthBounded) {
  std::string ok = "pkcs11:object=" + std::string(kMaxUriLength - 14, 'a');
  EXPECT_TRUE(ParsePkcs11Uri(ok).ok());
  EXPECT_FALSE(ParsePkcs11Uri(ok + "a").ok());
}

TEST(Pkcs11Uri, PercentEncodeKeepsUnreserved) {
  EXPECT_EQ(PercentEncode(AsSpan("a-Z_.~ /"), ""), "a-Z_.~%20%2F");
  EXPECT_EQ(PercentEncode(AsSpan("a:b"), ":"), "a:b");
}

TEST(Pkcs11Uri, OtherScheme) {
  auto uri = ParseUriWithScheme("CertVault:token=t;object=web;type=private", kVaultScheme);
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(*uri->object, "web");
  EXPECT_EQ(FormatUriWithScheme(*uri, kVaultScheme), "certvault:token=t;object=web;type=private");
  EXPECT_FALSE(ParseUriWithScheme("pkcs11:object=web", kVaultScheme).ok());
  EXPECT_FALSE(ParseUriWithScheme("certvault", kVaultScheme).ok());
  EXPECT_FALSE(ParseUriWithScheme("certvaultx:object=a", kVaultScheme).ok());
  EXPECT_FALSE(ParsePkcs11Uri("certvault:object=web").ok());
}

}  // namespace
}  // namespace certvault
