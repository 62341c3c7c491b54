// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Tests of the PKCS#11 v3.0 attribute rules. Section numbers are those of the
// v3.0 base specification (§4 objects, §5 functions); footnote numbers are the
// common footnotes of §4 Table 10.
#include "src/core/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace certvault::policy {
namespace {

constexpr MechanismType kRsaGen = CKM_RSA_PKCS_KEY_PAIR_GEN;

// B: a small template builder.
class B {
 public:
  B& Bool(AttributeType t, bool v) { s_.SetBool(t, v); return *this; }
  B& Ulong(AttributeType t, uint64_t v) { s_.SetUlong(t, v); return *this; }
  B& Str(AttributeType t, std::string_view v) { s_.SetString(t, v); return *this; }
  B& Raw(AttributeType t, std::vector<uint8_t> v) { s_.Set(t, v); return *this; }
  operator const AttributeSet&() const { return s_; }  // NOLINT(google-explicit-constructor)
  const AttributeSet& set() const { return s_; }

 private:
  AttributeSet s_;
};

Reason ReasonOf(const Status& s) { return s.reason(); }
template <typename T>
Reason ReasonOf(const Result<T>& r) { return r.status().reason(); }

Result<AttributeSet> Create(ObjectClass cls, KeyType kt, const AttributeSet& t) {
  return ApplyTemplate(cls, kt, t, Origin::kCreate, 0);
}

B DataTemplate() { return std::move(B().Ulong(CKA_CLASS, CKO_DATA).Str(CKA_VALUE, "payload")); }
B AesTemplate(size_t len = 16) {
  return std::move(B().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE,
                                                                                     std::vector<uint8_t>(len, 7)));
}
B RsaPrivTemplate() {
  return std::move(B().Ulong(CKA_CLASS, CKO_PRIVATE_KEY)
                       .Ulong(CKA_KEY_TYPE, CKK_RSA)
                       .Raw(CKA_MODULUS, {0xC1, 0x01})
                       .Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1})
                       .Raw(CKA_PRIVATE_EXPONENT, {0x55}));
}
B CertTemplate() {
  return std::move(B().Ulong(CKA_CLASS, CKO_CERTIFICATE)
                       .Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
                       .Str(CKA_SUBJECT, "subject-der")
                       .Str(CKA_VALUE, "abc"));
}

// --- ApplyTemplate: §4.1.1 rules and §4.4 defaults ---

TEST(ApplyTemplate, DataObjectGetsStorageDefaults) {  // §4.4, §4.5
  auto r = Create(CKO_DATA, 0, DataTemplate());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_TOKEN), false);
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), false);
  EXPECT_EQ(r->GetBool(CKA_MODIFIABLE), true);
  EXPECT_EQ(r->GetBool(CKA_COPYABLE), true);
  EXPECT_EQ(r->GetBool(CKA_DESTROYABLE), true);
  EXPECT_EQ(r->GetBytes(CKA_LABEL)->size(), 0u);
  EXPECT_TRUE(r->Has(CKA_APPLICATION));
  EXPECT_TRUE(r->Has(CKA_OBJECT_ID));
  EXPECT_FALSE(r->Has(CKA_LOCAL));     // keys only (§4.7)
  EXPECT_FALSE(r->Has(CKA_KEY_TYPE));  // keys only
  EXPECT_EQ(AsStringView(*r->GetBytes(CKA_VALUE)), "payload");
}

TEST(ApplyTemplate, CallerValuesBeatDefaults) {
  auto r = Create(CKO_DATA, 0, DataTemplate().Bool(CKA_TOKEN, true).Bool(CKA_PRIVATE, true).Str(CKA_LABEL, "l"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->GetBool(CKA_TOKEN), true);
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), true);
  EXPECT_EQ(AsStringView(*r->GetBytes(CKA_LABEL)), "l");
}

TEST(ApplyTemplate, CreateRequiresClass) {  // footnote 1 on CKA_CLASS
  EXPECT_EQ(ReasonOf(Create(CKO_DATA, 0, B().Str(CKA_VALUE, "x"))), Reason::kTemplateIncomplete);
}

TEST(ApplyTemplate, ClassMismatchIsInconsistent) {  // §4.1.1 rule 5
  EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, DataTemplate())), Reason::kTemplateInconsistent);
}

TEST(ApplyTemplate, UnsupportedClassIsValueInvalid) {
  EXPECT_EQ(ReasonOf(Create(CKO_HW_FEATURE, 0, B().Ulong(CKA_CLASS, CKO_HW_FEATURE))),
            Reason::kAttributeValueInvalid);
}

TEST(ApplyTemplate, UnknownVendorAndUnsupportedTypesAreTypeInvalid) {  // §4.1.1 rule 1
  for (AttributeType t : {AttributeType{CKA_VENDOR_DEFINED}, AttributeType{CKA_VENDOR_DEFINED | 5},
                          AttributeType{CKA_OTP_FORMAT}, AttributeType{CKA_WRAP_TEMPLATE}, AttributeType{0x7777}}) {
    EXPECT_EQ(ReasonOf(Create(CKO_DATA, 0, DataTemplate().Raw(t, {1}))), Reason::kAttributeTypeInvalid) << t;
  }
}

TEST(ApplyTemplate, BadEncodingsAreValueInvalid) {  // §4.1.1 rule 2
  std::vector<std::pair<AttributeType, std::vector<uint8_t>>> bad = {
      {CKA_TOKEN, {1, 0}},                      // CK_BBOOL is one byte
      {CKA_TOKEN, {}},                          //
      {CKA_TOKEN, {2}},                         // neither CK_TRUE nor CK_FALSE
      {CKA_CLASS, {0, 0, 0, 0}},                // CK_ULONG is 8 bytes on LP64
      {CKA_START_DATE, {'2', '0', '2', '4'}},   // CK_DATE is 8 digits
      {CKA_START_DATE, {'2', '0', '2', '4', '1', '3', '0', '1'}},  // month 13
      {CKA_END_DATE, {'2', '0', '2', '4', '0', '1', '0', 'x'}},
      {CKA_ALLOWED_MECHANISMS, {1, 2, 3}},      // not a CK_ULONG array
  };
  for (const auto& [type, value] : bad) {
    EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Raw(type, value))),
              Reason::kAttributeValueInvalid)
        << type;
  }
}

TEST(ApplyTemplate, DatesAcceptEmptyAndValid) {  // §4.7 CK_DATE
  auto r = Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Str(CKA_START_DATE, "20240229").Raw(CKA_END_DATE, {}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(AsStringView(*r->GetBytes(CKA_START_DATE)), "20240229");
}

TEST(ApplyTemplate, EarnedAttributesAreReadOnly) {  // footnotes 2,4,6
  for (AttributeType t : {AttributeType{CKA_LOCAL}, AttributeType{CKA_ALWAYS_SENSITIVE},
                          AttributeType{CKA_NEVER_EXTRACTABLE}}) {
    for (Origin o : {Origin::kCreate, Origin::kGenerate}) {
      B tmpl = o == Origin::kCreate ? AesTemplate() : std::move(B().Ulong(CKA_VALUE_LEN, 16));
      EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES, tmpl.Bool(t, true), o, CKM_AES_KEY_GEN)),
                Reason::kAttributeReadOnly)
          << t;
    }
  }
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Ulong(CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN))),
            Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(Create(CKO_DATA, 0, DataTemplate().Str(kCkaUniqueId, "1"))), Reason::kAttributeReadOnly);
}

TEST(ApplyTemplate, AttributeOfAnotherClassIsInconsistent) {  // §4.1.1 rule 5 example
  EXPECT_EQ(ReasonOf(Create(CKO_DATA, 0, DataTemplate().Bool(CKA_SIGN, true))), Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Raw(CKA_MODULUS, {1}))),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(Create(CKO_PRIVATE_KEY, CKK_RSA, RsaPrivTemplate().Raw(CKA_VALUE, {1}))),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(Create(CKO_DATA, 0, DataTemplate().Ulong(CKA_KEY_TYPE, CKK_AES))),
            Reason::kTemplateInconsistent);
}

TEST(ApplyTemplate, KeyTypeChecks) {
  // Supported key type of the wrong class: inconsistent.
  EXPECT_EQ(ReasonOf(Create(CKO_PRIVATE_KEY, CKK_AES, AesTemplate().Ulong(CKA_CLASS, CKO_PRIVATE_KEY))),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_RSA, AesTemplate().Ulong(CKA_KEY_TYPE, CKK_RSA))),
            Reason::kTemplateInconsistent);
  // Unsupported key type: value invalid.
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_DES3, AesTemplate().Ulong(CKA_KEY_TYPE, CKK_DES3))),
            Reason::kAttributeValueInvalid);
  // Template's CKA_KEY_TYPE differs from the argument.
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_GENERIC_SECRET, AesTemplate())), Reason::kTemplateInconsistent);
  // Create needs CKA_KEY_TYPE in the template (footnote 1).
  B no_type;
  no_type.Ulong(CKA_CLASS, CKO_SECRET_KEY).Raw(CKA_VALUE, std::vector<uint8_t>(16, 1));
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, no_type)), Reason::kTemplateIncomplete);
}

TEST(ApplyTemplate, CreatedSecretKeyDefaultsAndEarned) {  // §4.10, §4.7
  auto r = Create(CKO_SECRET_KEY, CKK_AES, AesTemplate(32));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), true);
  EXPECT_EQ(r->GetBool(CKA_SENSITIVE), true);
  EXPECT_EQ(r->GetBool(CKA_EXTRACTABLE), false);
  EXPECT_EQ(r->GetBool(CKA_ENCRYPT), true);
  EXPECT_EQ(r->GetBool(CKA_DECRYPT), true);
  EXPECT_EQ(r->GetBool(CKA_SIGN), false);
  EXPECT_EQ(r->GetBool(CKA_WRAP), false);
  EXPECT_EQ(r->GetBool(CKA_DERIVE), false);
  EXPECT_EQ(r->GetBool(CKA_LOCAL), false);
  EXPECT_EQ(r->GetUlong(CKA_KEY_GEN_MECHANISM), kCkUnavailableInformation);
  EXPECT_EQ(r->GetBool(CKA_ALWAYS_SENSITIVE), false);  // it existed outside the token
  EXPECT_EQ(r->GetBool(CKA_NEVER_EXTRACTABLE), false);
  EXPECT_EQ(r->GetUlong(CKA_KEY_TYPE), CKK_AES);
}

TEST(ApplyTemplate, AesKeySizeAndEmptyValue) {  // mechanisms §2.15: 16, 24 or 32 bytes
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate(15))), Reason::kAttributeValueInvalid);
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate(33))), Reason::kAttributeValueInvalid);
  B empty;
  empty.Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_GENERIC_SECRET).Raw(CKA_VALUE, {});
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_GENERIC_SECRET, empty)), Reason::kAttributeValueInvalid);
}

TEST(ApplyTemplate, ValueLenOnCreateIsInconsistent) {  // footnote 2 on CKA_VALUE_LEN
  EXPECT_EQ(ReasonOf(Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Ulong(CKA_VALUE_LEN, 16))),
            Reason::kTemplateInconsistent);
}

TEST(ApplyTemplate, RsaPrivateKeyRequirements) {  // mechanisms §2.1.3, footnote 1
  auto r = Create(CKO_PRIVATE_KEY, CKK_RSA, RsaPrivTemplate());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_SIGN), true);
  EXPECT_EQ(r->GetBool(CKA_DECRYPT), true);
  EXPECT_EQ(r->GetBool(CKA_UNWRAP), false);
  EXPECT_EQ(r->GetBool(CKA_SIGN_RECOVER), false);
  EXPECT_EQ(r->GetBool(CKA_ALWAYS_AUTHENTICATE), false);
  EXPECT_EQ(r->GetBool(CKA_WRAP_WITH_TRUSTED), false);
  for (AttributeType t : {AttributeType{CKA_MODULUS}, AttributeType{CKA_PRIVATE_EXPONENT},
                          AttributeType{CKA_PUBLIC_EXPONENT}}) {
    AttributeSet tmpl = RsaPrivTemplate().set();
    tmpl.Erase(t);
    EXPECT_EQ(ReasonOf(Create(CKO_PRIVATE_KEY, CKK_RSA, tmpl)), Reason::kTemplateIncomplete) << t;
  }
  EXPECT_EQ(ReasonOf(Create(CKO_PRIVATE_KEY, CKK_RSA, RsaPrivTemplate().Raw(CKA_PRIME_1, {}))),
            Reason::kAttributeValueInvalid);  // an empty big integer
}

TEST(ApplyTemplate, GenerateRsaPublicNeedsModulusBits) {  // footnote 3 on CKA_MODULUS_BITS
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PUBLIC_KEY, CKK_RSA, B(), Origin::kGenerate, kRsaGen)),
            Reason::kTemplateIncomplete);
  auto r = ApplyTemplate(CKO_PUBLIC_KEY, CKK_RSA,
                         B().Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_PUBLIC_EXPONENT, {1, 0, 1}), Origin::kGenerate,
                         kRsaGen);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_LOCAL), true);
  EXPECT_EQ(r->GetUlong(CKA_KEY_GEN_MECHANISM), kRsaGen);
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), false);
  EXPECT_EQ(r->GetBool(CKA_VERIFY), true);
  EXPECT_EQ(r->GetBool(CKA_ENCRYPT), true);
  EXPECT_EQ(r->GetBool(CKA_WRAP), false);
  EXPECT_EQ(r->GetBool(CKA_TRUSTED), false);
  EXPECT_FALSE(r->Has(CKA_SENSITIVE));  // not a public key attribute
  EXPECT_FALSE(r->Has(CKA_ALWAYS_SENSITIVE));
}

TEST(ApplyTemplate, GenerateRefusesKeyMaterial) {  // footnote 4
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PUBLIC_KEY, CKK_RSA, B().Ulong(CKA_MODULUS_BITS, 2048).Raw(CKA_MODULUS, {1}),
                                   Origin::kGenerate, kRsaGen)),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B().Ulong(CKA_VALUE_LEN, 16).Raw(CKA_VALUE, {1}),
                                   Origin::kGenerate, CKM_AES_KEY_GEN)),
            Reason::kTemplateInconsistent);
  // CKA_EC_PARAMS belongs on the public template only (private key: footnote 4).
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PRIVATE_KEY, CKK_EC, B().Raw(CKA_EC_PARAMS, {6, 1, 1}), Origin::kGenerate,
                                   CKM_EC_KEY_PAIR_GEN)),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PUBLIC_KEY, CKK_EC, B(), Origin::kGenerate, CKM_EC_KEY_PAIR_GEN)),
            Reason::kTemplateIncomplete);
}

TEST(ApplyTemplate, GeneratedPrivateKeyIsAlwaysSensitive) {  // §4.9 CKA_ALWAYS_SENSITIVE/NEVER_EXTRACTABLE
  auto r = ApplyTemplate(CKO_PRIVATE_KEY, CKK_RSA, B(), Origin::kGenerate, kRsaGen);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), true);
  EXPECT_EQ(r->GetBool(CKA_SENSITIVE), true);
  EXPECT_EQ(r->GetBool(CKA_EXTRACTABLE), false);
  EXPECT_EQ(r->GetBool(CKA_ALWAYS_SENSITIVE), true);
  EXPECT_EQ(r->GetBool(CKA_NEVER_EXTRACTABLE), true);
  EXPECT_EQ(r->GetBool(CKA_LOCAL), true);

  auto open = ApplyTemplate(CKO_PRIVATE_KEY, CKK_RSA, B().Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true),
                            Origin::kGenerate, kRsaGen);
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->GetBool(CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(open->GetBool(CKA_NEVER_EXTRACTABLE), false);
}

TEST(ApplyTemplate, CapabilityDefaultsFollowKeyType) {  // footnote 9: token-specific defaults
  auto ec = ApplyTemplate(CKO_PRIVATE_KEY, CKK_EC, B(), Origin::kGenerate, CKM_EC_KEY_PAIR_GEN);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ(ec->GetBool(CKA_SIGN), true);
  EXPECT_EQ(ec->GetBool(CKA_DECRYPT), false);
  EXPECT_EQ(ec->GetBool(CKA_DERIVE), false);
  auto x25519 = ApplyTemplate(CKO_PRIVATE_KEY, kCkkEcMontgomery, B(), Origin::kGenerate, 0x1055);
  ASSERT_TRUE(x25519.ok());
  EXPECT_EQ(x25519->GetBool(CKA_SIGN), false);
  EXPECT_EQ(x25519->GetBool(CKA_DERIVE), true);
  auto ed_pub = ApplyTemplate(CKO_PUBLIC_KEY, CKK_EC_EDWARDS, B().Str(CKA_EC_PARAMS, "edwards25519"),
                              Origin::kGenerate, 0x1055);
  ASSERT_TRUE(ed_pub.ok());
  EXPECT_EQ(ed_pub->GetBool(CKA_VERIFY), true);
  EXPECT_EQ(ed_pub->GetBool(CKA_ENCRYPT), false);
  auto hmac = ApplyTemplate(CKO_SECRET_KEY, CKK_SHA256_HMAC, B().Ulong(CKA_VALUE_LEN, 32), Origin::kGenerate,
                            CKM_GENERIC_SECRET_KEY_GEN);
  ASSERT_TRUE(hmac.ok());
  EXPECT_EQ(hmac->GetBool(CKA_SIGN), true);
  EXPECT_EQ(hmac->GetBool(CKA_VERIFY), true);
  EXPECT_EQ(hmac->GetBool(CKA_ENCRYPT), false);
}

TEST(ApplyTemplate, GenerateSecretNeedsValueLen) {  // footnote 3 on CKA_VALUE_LEN
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B(), Origin::kGenerate, CKM_AES_KEY_GEN)),
            Reason::kTemplateIncomplete);
}

TEST(ApplyTemplate, OriginsLimitClasses) {  // §5.18 key management: generate/unwrap/derive make keys
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_DATA, 0, B(), Origin::kGenerate, 0)), Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PUBLIC_KEY, CKK_RSA, B().Ulong(CKA_KEY_TYPE, CKK_RSA), Origin::kUnwrap, 0)),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PRIVATE_KEY, CKK_EC, B().Ulong(CKA_KEY_TYPE, CKK_EC), Origin::kDerive, 0)),
            Reason::kTemplateInconsistent);
}

TEST(ApplyTemplate, Unwrap) {  // §5.18 C_UnwrapKey; footnotes 5, 6
  auto r = ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES),
                         Origin::kUnwrap, 0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_LOCAL), false);
  EXPECT_EQ(r->GetBool(CKA_ALWAYS_SENSITIVE), false);
  EXPECT_EQ(r->GetBool(CKA_NEVER_EXTRACTABLE), false);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B(), Origin::kUnwrap, 0)), Reason::kTemplateIncomplete);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES,
                                   B().Ulong(CKA_KEY_TYPE, CKK_AES).Raw(CKA_VALUE, std::vector<uint8_t>(16, 1)),
                                   Origin::kUnwrap, 0)),
            Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_PRIVATE_KEY, CKK_RSA, B().Ulong(CKA_KEY_TYPE, CKK_RSA).Raw(CKA_MODULUS, {1}),
                                   Origin::kUnwrap, 0)),
            Reason::kTemplateInconsistent);
}

TEST(ApplyTemplate, DeriveSecretKey) {  // §5.18 C_DeriveKey
  auto r = ApplyTemplate(CKO_SECRET_KEY, CKK_GENERIC_SECRET, B().Ulong(CKA_VALUE_LEN, 32).Bool(CKA_DERIVE, true),
                         Origin::kDerive, CKM_ECDH1_DERIVE);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_LOCAL), false);  // §4.7: only generated keys are local
  EXPECT_EQ(r->GetUlong(CKA_KEY_GEN_MECHANISM), kCkUnavailableInformation);
  EXPECT_EQ(r->GetBool(CKA_DERIVE), true);
}

TEST(ApplyTemplate, CertificateDefaultsAndCheckValue) {  // §4.6.1, §4.6.3
  auto r = Create(CKO_CERTIFICATE, 0, CertTemplate());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->GetBool(CKA_TRUSTED), false);
  EXPECT_EQ(r->GetUlong(CKA_CERTIFICATE_CATEGORY), 0u);
  EXPECT_EQ(r->GetBool(CKA_PRIVATE), false);
  EXPECT_TRUE(r->Has(CKA_ID));
  EXPECT_TRUE(r->Has(CKA_ISSUER));
  EXPECT_TRUE(r->Has(CKA_SERIAL_NUMBER));
  // SHA-1("abc") = a9993e36...; CKA_CHECK_VALUE is its first three bytes.
  std::vector<uint8_t> expected = {0xa9, 0x99, 0x3e};
  auto cv = r->GetBytes(CKA_CHECK_VALUE);
  ASSERT_TRUE(cv.has_value());
  EXPECT_EQ(std::vector<uint8_t>(cv->begin(), cv->end()), expected);
  EXPECT_TRUE(Create(CKO_CERTIFICATE, 0, CertTemplate().Raw(CKA_CHECK_VALUE, expected)).ok());
  EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, CertTemplate().Raw(CKA_CHECK_VALUE, {0xa9, 0x99, 0x3f}))),
            Reason::kAttributeValueInvalid);
}

TEST(ApplyTemplate, CertificateRequirementsAndValues) {  // §4.6.3 footnote 1; §4.6.1
  for (AttributeType t : {AttributeType{CKA_CERTIFICATE_TYPE}, AttributeType{CKA_SUBJECT}, AttributeType{CKA_VALUE}}) {
    AttributeSet tmpl = CertTemplate().set();
    tmpl.Erase(t);
    EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, tmpl)), Reason::kTemplateIncomplete) << t;
  }
  EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, CertTemplate().Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509_ATTR_CERT))),
            Reason::kAttributeValueInvalid);
  EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, CertTemplate().Ulong(CKA_CERTIFICATE_CATEGORY, 4))),
            Reason::kAttributeValueInvalid);
  EXPECT_EQ(ReasonOf(Create(CKO_CERTIFICATE, 0, CertTemplate().Raw(CKA_SUBJECT, {}))),
            Reason::kAttributeValueInvalid);
  EXPECT_TRUE(Create(CKO_CERTIFICATE, 0, CertTemplate().Ulong(CKA_CERTIFICATE_CATEGORY, 2)).ok());
}

TEST(ApplyTemplate, CopyKeepsSourceEarnedAttributes) {  // §4.7 CKA_LOCAL "or created as a copy of a key which had"
  auto src = ApplyTemplate(CKO_PRIVATE_KEY, CKK_RSA, B(), Origin::kGenerate, kRsaGen);
  ASSERT_TRUE(src.ok());
  src->Set(CKA_MODULUS, std::vector<uint8_t>{0xC1});  // the engine's attributes, merged
  auto copy = ApplyTemplate(CKO_PRIVATE_KEY, CKK_RSA, *src, Origin::kCopy, 0);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->GetBool(CKA_LOCAL), true);
  EXPECT_EQ(copy->GetUlong(CKA_KEY_GEN_MECHANISM), kRsaGen);
  EXPECT_EQ(copy->GetBool(CKA_ALWAYS_SENSITIVE), true);
  EXPECT_EQ(copy->GetBool(CKA_NEVER_EXTRACTABLE), true);
  EXPECT_TRUE(copy->Has(CKA_MODULUS));
}

// --- MergeEngineAttributes ---

TEST(MergeEngineAttributes, AddsMaterialAndStripsSecrets) {
  auto obj = Create(CKO_PRIVATE_KEY, CKK_RSA, RsaPrivTemplate());
  ASSERT_TRUE(obj.ok());
  B engine;
  engine.Raw(CKA_MODULUS, {0xC1, 0x01}).Str(CKA_PUBLIC_KEY_INFO, "spki").Ulong(CKA_MODULUS_BITS, 16);
  ASSERT_TRUE(MergeEngineAttributes(&*obj, engine).ok());
  EXPECT_EQ(AsStringView(*obj->GetBytes(CKA_PUBLIC_KEY_INFO)), "spki");
  EXPECT_FALSE(obj->Has(CKA_MODULUS_BITS));       // not a private key attribute: ignored
  EXPECT_FALSE(obj->Has(CKA_PRIVATE_EXPONENT));   // secret: lives in the material
  EXPECT_TRUE(obj->Has(CKA_MODULUS));
}

TEST(MergeEngineAttributes, EngineNormalizesMaterial) {
  auto obj = Create(CKO_PRIVATE_KEY, CKK_RSA, RsaPrivTemplate().Raw(CKA_MODULUS, {0x00, 0xC1, 0x01}));
  ASSERT_TRUE(obj.ok());
  ASSERT_TRUE(MergeEngineAttributes(&*obj, B().Raw(CKA_MODULUS, {0xC1, 0x01})).ok());
  EXPECT_EQ(obj->GetBytes(CKA_MODULUS)->size(), 2u);
}

TEST(MergeEngineAttributes, ConflictIsInconsistent) {  // §4.1.1 rule 5: values contributed by the function
  auto obj = ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B().Ulong(CKA_VALUE_LEN, 16), Origin::kGenerate,
                           CKM_AES_KEY_GEN);
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(ReasonOf(MergeEngineAttributes(&*obj, B().Ulong(CKA_VALUE_LEN, 32))), Reason::kTemplateInconsistent);
  EXPECT_EQ(ReasonOf(MergeEngineAttributes(&*obj, B().Bool(CKA_SENSITIVE, false))), Reason::kTemplateInconsistent);
  EXPECT_TRUE(MergeEngineAttributes(&*obj, B().Ulong(CKA_VALUE_LEN, 16).Raw(CKA_CHECK_VALUE, {1, 2, 3})).ok());
  EXPECT_TRUE(obj->Has(CKA_CHECK_VALUE));
  AttributeSet no_class;
  EXPECT_FALSE(MergeEngineAttributes(&no_class, B()).ok());
}

// --- CheckModify: §5.7 C_SetAttributeValue / C_CopyObject ---

AttributeSet StoredRsaPrivate(bool sensitive, bool extractable) {
  auto r = Create(CKO_PRIVATE_KEY, CKK_RSA,
                  RsaPrivTemplate().Bool(CKA_SENSITIVE, sensitive).Bool(CKA_EXTRACTABLE, extractable));
  return r.ok() ? *r : AttributeSet();
}

AttributeSet StoredAesKey() {
  auto r = Create(CKO_SECRET_KEY, CKK_AES, AesTemplate().Bool(CKA_SENSITIVE, false).Bool(CKA_EXTRACTABLE, true));
  return r.ok() ? *r : AttributeSet();
}

TEST(CheckModify, ModifiableAttributesMerge) {  // footnote 8
  auto r = CheckModify(StoredAesKey(), B().Str(CKA_LABEL, "new").Bool(CKA_ENCRYPT, false).Str(CKA_ID, "i"), false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(AsStringView(*r->GetBytes(CKA_LABEL)), "new");
  EXPECT_EQ(r->GetBool(CKA_ENCRYPT), false);
  EXPECT_EQ(r->GetBool(CKA_DECRYPT), true);  // untouched
}

TEST(CheckModify, ReadOnlyAttributes) {
  AttributeSet key = StoredAesKey();
  for (AttributeType t : {AttributeType{CKA_LOCAL}, AttributeType{CKA_ALWAYS_SENSITIVE},
                          AttributeType{CKA_NEVER_EXTRACTABLE}}) {
    EXPECT_EQ(ReasonOf(CheckModify(key, B().Bool(t, true), false)), Reason::kAttributeReadOnly) << t;
  }
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Ulong(CKA_CLASS, CKO_SECRET_KEY), false)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Ulong(CKA_KEY_TYPE, CKK_AES), true)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Raw(CKA_VALUE, std::vector<uint8_t>(16, 0)), false)),
            Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Raw(CKA_ALLOWED_MECHANISMS, {}), false)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(StoredRsaPrivate(true, false), B().Bool(CKA_ALWAYS_AUTHENTICATE, true), false)),
            Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(StoredRsaPrivate(true, false), B().Raw(CKA_MODULUS, {1}), false)),
            Reason::kAttributeReadOnly);
}

TEST(CheckModify, CopyOnlyAttributes) {  // §4.4.1: TOKEN, PRIVATE, MODIFIABLE change only when copying
  AttributeSet key = StoredAesKey();
  for (AttributeType t : {AttributeType{CKA_TOKEN}, AttributeType{CKA_PRIVATE}, AttributeType{CKA_MODIFIABLE},
                          AttributeType{CKA_DESTROYABLE}}) {
    EXPECT_EQ(ReasonOf(CheckModify(key, B().Bool(t, false), false)), Reason::kAttributeReadOnly) << t;
    auto r = CheckModify(key, B().Bool(t, false), true);
    ASSERT_TRUE(r.ok()) << t;
    EXPECT_EQ(r->GetBool(t), false);
  }
}

TEST(CheckModify, NotModifiableObject) {  // §4.4 CKA_MODIFIABLE
  AttributeSet key = StoredAesKey();
  key.SetBool(CKA_MODIFIABLE, false);
  // §5.7 C_SetAttributeValue: CKR_ACTION_PROHIBITED.
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Str(CKA_LABEL, "x"), false)), Reason::kActionProhibited);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Str(CKA_LABEL, "x"), true)), Reason::kActionProhibited);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Bool(CKA_SENSITIVE, true), false)), Reason::kActionProhibited);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Ulong(CKA_CLASS, CKO_DATA), false)), Reason::kAttributeReadOnly);
  EXPECT_TRUE(CheckModify(key, B().Bool(CKA_TOKEN, true), true).ok());  // a copy may still move to the token
}

TEST(CheckModify, OneWayAttributes) {  // footnotes 11 and 12
  AttributeSet key = StoredAesKey();  // SENSITIVE=FALSE, EXTRACTABLE=TRUE
  auto hardened = CheckModify(key, B().Bool(CKA_SENSITIVE, true).Bool(CKA_EXTRACTABLE, false)
                                       .Bool(CKA_WRAP_WITH_TRUSTED, true).Bool(CKA_COPYABLE, false), false);
  ASSERT_TRUE(hardened.ok()) << hardened.status().ToString();
  EXPECT_EQ(ReasonOf(CheckModify(*hardened, B().Bool(CKA_SENSITIVE, false), false)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*hardened, B().Bool(CKA_EXTRACTABLE, true), false)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*hardened, B().Bool(CKA_WRAP_WITH_TRUSTED, false), false)),
            Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*hardened, B().Bool(CKA_COPYABLE, true), false)), Reason::kAttributeReadOnly);
  // Re-asserting the current value is not a change.
  EXPECT_TRUE(CheckModify(*hardened, B().Bool(CKA_SENSITIVE, true).Bool(CKA_EXTRACTABLE, false), false).ok());
}

TEST(CheckModify, CopyOfNonCopyableObjectRefused) {  // §4.4 CKA_COPYABLE
  AttributeSet key = StoredAesKey();
  key.SetBool(CKA_COPYABLE, false);
  EXPECT_EQ(ReasonOf(CheckModify(key, B(), true)), Reason::kActionProhibited);  // §5.7 C_CopyObject
  EXPECT_TRUE(CheckModify(key, B().Str(CKA_LABEL, "x"), false).ok());
}

TEST(CheckModify, CopyMayHardenButNotWeaken) {  // §5.7 C_CopyObject
  auto src = ApplyTemplate(CKO_SECRET_KEY, CKK_AES, B().Ulong(CKA_VALUE_LEN, 16), Origin::kGenerate, CKM_AES_KEY_GEN);
  ASSERT_TRUE(src.ok());
  EXPECT_EQ(ReasonOf(CheckModify(*src, B().Bool(CKA_EXTRACTABLE, true), true)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*src, B().Bool(CKA_SENSITIVE, false), true)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*src, B().Bool(CKA_LOCAL, false), true)), Reason::kAttributeReadOnly);
}

TEST(CheckModify, InvalidTypesAndValues) {  // §5.7: CKR_ATTRIBUTE_TYPE_INVALID / VALUE_INVALID
  AttributeSet key = StoredAesKey();
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Raw(CKA_MODULUS, {1}), false)), Reason::kAttributeTypeInvalid);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Bool(CKA_VENDOR_DEFINED + 1, true), false)),
            Reason::kAttributeTypeInvalid);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Raw(CKA_SIGN, {7}), false)), Reason::kAttributeValueInvalid);
  EXPECT_EQ(ReasonOf(CheckModify(key, B().Str(CKA_END_DATE, "2024"), false)), Reason::kAttributeValueInvalid);
  EXPECT_FALSE(CheckModify(AttributeSet(), B().Str(CKA_LABEL, "x"), false).ok());
}

TEST(CheckModify, CertificateAndDataRules) {  // §4.6.3: only ID, ISSUER, SERIAL_NUMBER (+ LABEL); §4.5
  auto cert = Create(CKO_CERTIFICATE, 0, CertTemplate());
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(CheckModify(*cert, B().Str(CKA_ID, "1").Str(CKA_ISSUER, "i").Str(CKA_SERIAL_NUMBER, "s"), false).ok());
  EXPECT_EQ(ReasonOf(CheckModify(*cert, B().Str(CKA_VALUE, "x"), false)), Reason::kAttributeReadOnly);
  EXPECT_EQ(ReasonOf(CheckModify(*cert, B().Str(CKA_SUBJECT, "x"), false)), Reason::kAttributeReadOnly);
  auto data = Create(CKO_DATA, 0, DataTemplate());
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(CheckModify(*data, B().Str(CKA_VALUE, "v2").Str(CKA_APPLICATION, "app"), false).ok());
}

// --- Readable: §5.7 C_GetAttributeValue; §4.9 footnote 7 ---

TEST(Readable, SensitiveComponents) {
  for (AttributeType t : {AttributeType{CKA_PRIVATE_EXPONENT}, AttributeType{CKA_PRIME_1}, AttributeType{CKA_PRIME_2},
                          AttributeType{CKA_EXPONENT_1}, AttributeType{CKA_EXPONENT_2},
                          AttributeType{CKA_COEFFICIENT}}) {
    EXPECT_EQ(Readable(StoredRsaPrivate(true, true), t), Reason::kAttributeSensitive) << t;
    EXPECT_EQ(Readable(StoredRsaPrivate(false, false), t), Reason::kAttributeSensitive) << t;
    EXPECT_EQ(Readable(StoredRsaPrivate(false, true), t), Reason::kNone) << t;
  }
  EXPECT_EQ(Readable(StoredRsaPrivate(true, false), CKA_MODULUS), Reason::kNone);
  EXPECT_EQ(Readable(StoredRsaPrivate(true, false), CKA_LABEL), Reason::kNone);
}

TEST(Readable, SecretKeyValue) {
  EXPECT_EQ(Readable(StoredAesKey(), CKA_VALUE), Reason::kNone);  // SENSITIVE=FALSE, EXTRACTABLE=TRUE
  auto r = Create(CKO_SECRET_KEY, CKK_AES, AesTemplate());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Readable(*r, CKA_VALUE), Reason::kAttributeSensitive);
  EXPECT_EQ(Readable(*r, CKA_VALUE_LEN), Reason::kNone);
  EXPECT_EQ(Readable(*r, CKA_CHECK_VALUE), Reason::kNone);
}

TEST(Readable, FailsClosedWithoutProtectionAttributes) {
  AttributeSet bare = B().Ulong(CKA_CLASS, CKO_SECRET_KEY).Ulong(CKA_KEY_TYPE, CKK_AES);
  EXPECT_EQ(Readable(bare, CKA_VALUE), Reason::kAttributeSensitive);
}

TEST(Readable, TypeInvalidForClass) {
  EXPECT_EQ(Readable(StoredRsaPrivate(false, true), CKA_VALUE), Reason::kAttributeTypeInvalid);
  EXPECT_EQ(Readable(StoredAesKey(), CKA_MODULUS), Reason::kAttributeTypeInvalid);
  EXPECT_EQ(Readable(StoredAesKey(), CKA_VENDOR_DEFINED), Reason::kAttributeTypeInvalid);
  EXPECT_EQ(Readable(StoredAesKey(), CKA_WRAP_TEMPLATE), Reason::kAttributeTypeInvalid);
  auto data = Create(CKO_DATA, 0, DataTemplate());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(Readable(*data, CKA_VALUE), Reason::kNone);
  EXPECT_EQ(Readable(*data, CKA_SENSITIVE), Reason::kAttributeTypeInvalid);
}

// --- IsSecretAttribute, AllowsMechanism, Permits, ValueKindOf ---

TEST(IsSecretAttribute, KeyMaterialOnly) {
  EXPECT_TRUE(IsSecretAttribute(CKO_SECRET_KEY, CKA_VALUE));
  EXPECT_TRUE(IsSecretAttribute(CKO_PRIVATE_KEY, CKA_VALUE));
  EXPECT_TRUE(IsSecretAttribute(CKO_PRIVATE_KEY, CKA_PRIVATE_EXPONENT));
  EXPECT_TRUE(IsSecretAttribute(CKO_PRIVATE_KEY, CKA_COEFFICIENT));
  EXPECT_FALSE(IsSecretAttribute(CKO_PRIVATE_KEY, CKA_MODULUS));
  EXPECT_FALSE(IsSecretAttribute(CKO_PUBLIC_KEY, CKA_EC_POINT));
  EXPECT_FALSE(IsSecretAttribute(CKO_DATA, CKA_VALUE));
  EXPECT_FALSE(IsSecretAttribute(CKO_CERTIFICATE, CKA_VALUE));
  EXPECT_FALSE(IsSecretAttribute(CKO_SECRET_KEY, CKA_LABEL));
}

std::vector<uint8_t> Mechs(std::initializer_list<CK_ULONG> ms) {
  std::vector<uint8_t> out;
  for (CK_ULONG m : ms) {
    const auto* p = reinterpret_cast<const uint8_t*>(&m);
    out.insert(out.end(), p, p + sizeof(m));
  }
  return out;
}

TEST(AllowsMechanism, Enforcement) {  // §4.7 CKA_ALLOWED_MECHANISMS
  EXPECT_TRUE(AllowsMechanism(B(), CKM_AES_GCM));
  AttributeSet key = B().Raw(CKA_ALLOWED_MECHANISMS, Mechs({CKM_AES_GCM, CKM_AES_KEY_WRAP_PAD}));
  EXPECT_TRUE(AllowsMechanism(key, CKM_AES_GCM));
  EXPECT_TRUE(AllowsMechanism(key, CKM_AES_KEY_WRAP_PAD));
  EXPECT_FALSE(AllowsMechanism(key, CKM_AES_CBC));
  // Empty is what a key without the attribute reads back as: no restriction.
  EXPECT_TRUE(AllowsMechanism(B().Raw(CKA_ALLOWED_MECHANISMS, {}), CKM_AES_GCM));
  std::vector<uint8_t> truncated = Mechs({CKM_AES_GCM});
  truncated.pop_back();
  EXPECT_FALSE(AllowsMechanism(B().Raw(CKA_ALLOWED_MECHANISMS, truncated), CKM_AES_GCM));
}

TEST(Permits, EachUseNeedsItsAttribute) {  // §4.8-§4.10 capability attributes
  const std::pair<Use, AttributeType> uses[] = {
      {Use::kSign, CKA_SIGN},       {Use::kVerify, CKA_VERIFY}, {Use::kEncrypt, CKA_ENCRYPT},
      {Use::kDecrypt, CKA_DECRYPT}, {Use::kWrap, CKA_WRAP},     {Use::kUnwrap, CKA_UNWRAP},
      {Use::kDerive, CKA_DERIVE}};
  for (const auto& [use, type] : uses) {
    EXPECT_TRUE(Permits(B().Bool(type, true), use).ok()) << type;
    EXPECT_EQ(ReasonOf(Permits(B().Bool(type, false), use)), Reason::kKeyFunctionNotPermitted) << type;
    EXPECT_EQ(ReasonOf(Permits(B(), use)), Reason::kKeyFunctionNotPermitted) << type;
    EXPECT_EQ(ReasonOf(Permits(B().Raw(type, {1, 1}), use)), Reason::kKeyFunctionNotPermitted) << type;
  }
  EXPECT_EQ(ReasonOf(Permits(B().Bool(CKA_VERIFY, true), Use::kSign)), Reason::kKeyFunctionNotPermitted);
}

TEST(ValueKindOf, Kinds) {
  EXPECT_EQ(ValueKindOf(CKA_SIGN), ValueKind::kBool);
  EXPECT_EQ(ValueKindOf(CKA_MODULUS_BITS), ValueKind::kUlong);
  EXPECT_EQ(ValueKindOf(CKA_MODULUS), ValueKind::kBigInt);
  EXPECT_EQ(ValueKindOf(CKA_START_DATE), ValueKind::kDate);
  EXPECT_EQ(ValueKindOf(CKA_ALLOWED_MECHANISMS), ValueKind::kUlongArray);
  EXPECT_EQ(ValueKindOf(CKA_LABEL), ValueKind::kBytes);
  EXPECT_EQ(ValueKindOf(CKA_VENDOR_DEFINED), std::nullopt);
  EXPECT_EQ(ValueKindOf(CKA_WRAP_TEMPLATE), std::nullopt);
}

TEST(NeedsSecurityOfficer, TrustedTrue) {  // footnote 10
  EXPECT_TRUE(NeedsSecurityOfficer(B().Bool(CKA_TRUSTED, true)));
  EXPECT_FALSE(NeedsSecurityOfficer(B().Bool(CKA_TRUSTED, false)));
  EXPECT_FALSE(NeedsSecurityOfficer(B().Str(CKA_LABEL, "x")));
}

// --- Bad input: truncation, bit flips, random templates ---

TEST(BadInput, TruncatedFixedSizeValuesAreValueInvalid) {  // §4.1.1 rule 2
  AttributeSet good = AesTemplate().Bool(CKA_TOKEN, true).Bool(CKA_SIGN, false).Ulong(CKA_KEY_TYPE, CKK_AES);
  ASSERT_TRUE(Create(CKO_SECRET_KEY, CKK_AES, good).ok());
  for (const Attribute& a : good.items()) {
    auto kind = ValueKindOf(a.type);
    ASSERT_TRUE(kind.has_value());
    if (*kind != ValueKind::kBool && *kind != ValueKind::kUlong) continue;
    AttributeSet bad = good;
    bad.Set(a.type, std::span<const uint8_t>(a.value).first(a.value.size() - 1));
    EXPECT_EQ(ReasonOf(ApplyTemplate(CKO_SECRET_KEY, CKK_AES, bad, Origin::kCreate, 0)),
              Reason::kAttributeValueInvalid)
        << a.type;
  }
}

TEST(BadInput, BitFlippedBoolsAreValueInvalid) {
  AttributeSet key = StoredAesKey();
  for (uint8_t bit = 1; bit != 0; bit = static_cast<uint8_t>(bit << 1)) {
    uint8_t flipped = static_cast<uint8_t>(CK_TRUE ^ bit);
    if (flipped == CK_FALSE) continue;
    EXPECT_EQ(ReasonOf(CheckModify(key, B().Raw(CKA_SIGN, {flipped}), false)), Reason::kAttributeValueInvalid);
  }
}

// RandomTemplates: arbitrary (type, value) mixes never crash, and every
// success is a complete object of the requested class.
TEST(BadInput, RandomTemplatesAreHandled) {
  const AttributeType types[] = {CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_VALUE, CKA_KEY_TYPE, CKA_SIGN,
                                 CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_LOCAL, CKA_MODULUS, CKA_VALUE_LEN,
                                 CKA_START_DATE, CKA_ALLOWED_MECHANISMS, CKA_EC_PARAMS, CKA_VENDOR_DEFINED};
  const ObjectClass classes[] = {CKO_DATA, CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY, CKO_SECRET_KEY};
  uint32_t state = 12345;
  auto next = [&state]() { return state = state * 1103515245u + 12345u; };
  for (int iter = 0; iter < 3000; ++iter) {
    AttributeSet tmpl;
    for (int n = next() % 6; n > 0; --n) {
      std::vector<uint8_t> v(next() % 10);
      for (uint8_t& b : v) b = static_cast<uint8_t>(next() % 3);
      tmpl.Set(types[next() % std::size(types)], v);
    }
    ObjectClass cls = classes[next() % std::size(classes)];
    auto r = ApplyTemplate(cls, CKK_AES, tmpl, static_cast<Origin>(next() % 5), CKM_AES_KEY_GEN);
    if (r.ok()) {
      EXPECT_EQ(r->GetUlong(CKA_CLASS), cls);
      EXPECT_TRUE(r->Has(CKA_TOKEN));
    } else {
      EXPECT_NE(r.status().reason(), Reason::kNone);
    }
    auto m = CheckModify(StoredAesKey(), tmpl, (next() & 1) != 0);
    if (m.ok()) {
      EXPECT_TRUE(m->GetBool(CKA_SENSITIVE).has_value());
    }
    for (const Attribute& a : tmpl.items()) (void)Readable(tmpl, a.type);
  }
}

}  // namespace
}  // namespace certvault::policy
