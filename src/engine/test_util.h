// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Helpers for the engine tests (not part of cv_engine).
#ifndef CERTVAULT_ENGINE_TEST_UTIL_H_
#define CERTVAULT_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>

#include "src/base/bytes.h"
#include "src/crypto/ossl_ptr.h"
#include "src/engine/engine.h"
#include "src/model/pkcs11_constants.h"

namespace certvault::engine::testing {

struct TestPair {
  NewKeyPair generated;
  std::shared_ptr<const ReadyKey> pub;
  std::shared_ptr<const ReadyKey> priv;
};

inline Bytes EcParamsFor(std::string_view name) {
  if (name == "P-256") return {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
  if (name == "P-384") return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
  if (name == "P-521") return {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
  if (name == "X25519") return {0x06, 0x03, 0x2B, 0x65, 0x6E};
  if (name == "X448") return {0x06, 0x03, 0x2B, 0x65, 0x6F};
  if (name == "Ed25519") return {0x06, 0x03, 0x2B, 0x65, 0x70};
  if (name == "Ed448") return {0x06, 0x03, 0x2B, 0x65, 0x71};
  return {};
}

inline TestPair LoadPair(NewKeyPair kp) {
  TestPair out;
  auto priv = LoadKey(kp.private_key.attrs, &kp.private_key.material);
  EXPECT_TRUE(priv.ok()) << priv.status().ToString();
  auto pub = LoadKey(kp.public_key.attrs, nullptr);
  EXPECT_TRUE(pub.ok()) << pub.status().ToString();
  if (priv.ok()) out.priv = *priv;
  if (pub.ok()) out.pub = *pub;
  out.generated = std::move(kp);
  return out;
}

inline TestPair GenPair(MechanismType mech, const AttributeSet& pub_tmpl) {
  auto kp = GenerateKeyPair(Mechanism{mech, {}}, pub_tmpl, AttributeSet());
  EXPECT_TRUE(kp.ok()) << kp.status().ToString();
  if (!kp.ok()) return {};
  return LoadPair(std::move(kp).value());
}

inline TestPair GenRsa(uint64_t bits = 2048) {
  AttributeSet t;
  t.SetUlong(CKA_MODULUS_BITS, bits);
  return GenPair(CKM_RSA_PKCS_KEY_PAIR_GEN, t);
}

inline TestPair GenCurve(std::string_view curve) {
  AttributeSet t;
  t.Set(CKA_EC_PARAMS, EcParamsFor(curve));
  MechanismType mech = CKM_EC_KEY_PAIR_GEN;
  if (curve == "Ed25519" || curve == "Ed448") mech = CKM_EC_EDWARDS_KEY_PAIR_GEN;
  if (curve == "X25519" || curve == "X448") mech = CKM_EC_MONTGOMERY_KEY_PAIR_GEN;
  return GenPair(mech, t);
}

inline std::shared_ptr<const ReadyKey> SecretKey(KeyType type, Bytes value) {
  AttributeSet a;
  a.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  a.SetUlong(CKA_KEY_TYPE, type);
  SecretBytes material(value, SecretAccess::Get());
  auto key = LoadKey(a, &material);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : nullptr;
}

inline Result<SecureVector> RunOp(OpKind kind, const Mechanism& mech, std::shared_ptr<const ReadyKey> key,
                                  std::span<const uint8_t> in) {
  auto op = NewOperation(kind, mech, std::move(key));
  if (!op.ok()) return op.status();
  SecureVector out;
  Status st = (*op)->Run(in, &out);
  if (!st.ok()) return st;
  return out;
}

inline Status VerifyOp(const Mechanism& mech, std::shared_ptr<const ReadyKey> key, std::span<const uint8_t> data,
                       std::span<const uint8_t> sig) {
  auto op = NewOperation(OpKind::kVerify, mech, std::move(key));
  if (!op.ok()) return op.status();
  return (*op)->VerifyRun(data, sig);
}

inline ossl::UniquePtr<EVP_PKEY> SpkiOf(const AttributeSet& attrs) {
  auto spki = attrs.GetBytes(CKA_PUBLIC_KEY_INFO);
  if (!spki.has_value()) return nullptr;
  const unsigned char* p = spki->data();
  return ossl::UniquePtr<EVP_PKEY>(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki->size())));
}

}  // namespace certvault::engine::testing

#endif  // CERTVAULT_ENGINE_TEST_UTIL_H_
