// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provision/provision.h"

#include <gtest/gtest.h>

#include "src/provision/test_util.h"
#include "src/provision/wrapped_key.h"

namespace certvault::provision {
namespace {

using testing::CertDer;
using testing::MakeCert;
using testing::NewP256;

class ProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GetNids().ok());
    authority_key_ = NewP256();
    authority_ = MakeCert(authority_key_.get(), "vendor");
    identity_key_ = NewP256();
    identity_ = MakeCert(identity_key_.get(), "vault identity");
    transport_key_ = NewP256();
    device_key_ = NewP256();
    header_.target_serial = "0000000000000001";
    header_.counter = 1;
    header_.nonce = Bytes(32, 7);
    header_.expires_unix = time(nullptr) + 3600;
  }

  Bytes TransportCert() {
    return CertDer(MakeCert(transport_key_.get(), "transport", identity_key_.get(), identity_.get()).get());
  }

  Bytes Package(EVP_PKEY* key, X509* cert, bool wrap = false) {
    PackageContent c;
    c.wrap_keys = wrap;
    c.label = "device";
    c.private_keys.push_back(testing::Pkcs8(device_key_.get()));
    c.certificates.push_back(CertDer(MakeCert(device_key_.get(), "dev-1", authority_key_.get(), authority_.get()).get()));
    auto der = BuildUpdatePackage(header_, c, TransportCert(), CmsSigner{key, cert, nullptr});
    EXPECT_TRUE(der.ok()) << der.status().ToString();
    return der.ok() ? *der : Bytes();
  }

  ossl::UniquePtr<EVP_PKEY> authority_key_, identity_key_, transport_key_, device_key_;
  ossl::UniquePtr<X509> authority_, identity_;
  PackageHeader header_;
};

TEST_F(ProvisionTest, RequestRoundTrip) {
  UpdateRequest r{"0000000000000001", 4, Bytes(32, 1), TransportCert(), "tls"};
  auto der = SignUpdateRequest(r, CmsSigner{identity_key_.get(), identity_.get(), nullptr});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto v = VerifyUpdateRequest(*der, nullptr);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->request.token_serial, r.token_serial);
  EXPECT_EQ(v->request.counter, 4u);
  EXPECT_EQ(v->request.nonce, r.nonce);
  EXPECT_EQ(v->request.transport_cert, r.transport_cert);
  EXPECT_EQ(v->request.label, "tls");
  EXPECT_EQ(X509_cmp(v->identity_cert.get(), identity_.get()), 0);
}

TEST_F(ProvisionTest, RequestChainToIdentityRoots) {
  ossl::UniquePtr<EVP_PKEY> maker_key = NewP256();
  ossl::UniquePtr<X509> maker = MakeCert(maker_key.get(), "manufacturer");
  ossl::UniquePtr<X509> issued = MakeCert(identity_key_.get(), "vault 1", maker_key.get(), maker.get());
  UpdateRequest r{"1", 0, Bytes(16, 1),
                  CertDer(MakeCert(transport_key_.get(), "transport", identity_key_.get(), issued.get()).get()), ""};
  auto der = SignUpdateRequest(r, CmsSigner{identity_key_.get(), issued.get(), nullptr});
  ASSERT_TRUE(der.ok());
  ossl::UniquePtr<X509_STORE> roots(X509_STORE_new());
  X509_STORE_set_purpose(roots.get(), X509_PURPOSE_ANY);
  X509_STORE_add_cert(roots.get(), maker.get());
  EXPECT_TRUE(VerifyUpdateRequest(*der, roots.get()).ok());
  ossl::UniquePtr<X509_STORE> other(X509_STORE_new());
  X509_STORE_add_cert(other.get(), authority_.get());
  EXPECT_FALSE(VerifyUpdateRequest(*der, other.get()).ok());
}

TEST_F(ProvisionTest, PackageRoundTrip) {
  Bytes der = Package(authority_key_.get(), authority_.get());
  auto v = VerifyUpdatePackage(der, authority_.get());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->header.target_serial, header_.target_serial);
  EXPECT_EQ(v->header.counter, 1u);
  EXPECT_EQ(v->header.nonce, header_.nonce);
  EXPECT_EQ(v->header.expires_unix, header_.expires_unix);
  auto c = OpenUpdatePackage(*v, transport_key_.get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->label, "device");
  ASSERT_EQ(c->private_keys.size(), 1u);
  EXPECT_TRUE(c->private_keys[0] == testing::Pkcs8(device_key_.get()));
  EXPECT_EQ(c->certificates.size(), 1u);
}

TEST_F(ProvisionTest, OperationPackagesRoundTrip) {
  CmsSigner who{authority_key_.get(), authority_.get(), nullptr};
  for (UpdateKind kind : {UpdateKind::kRenewCertificate, UpdateKind::kDeleteKey, UpdateKind::kSetCapacity}) {
    PackageContent c;
    c.kind = kind;
    c.label = "device";
    if (kind != UpdateKind::kSetCapacity) c.key_id = Bytes(20, 9);
    if (kind == UpdateKind::kRenewCertificate) c.certificates.push_back(CertDer(authority_.get()));
    c.capacity = kind == UpdateKind::kSetCapacity ? 12 : 0;
    auto der = BuildUpdatePackage(header_, c, TransportCert(), who);
    ASSERT_TRUE(der.ok()) << der.status().ToString();
    auto v = VerifyUpdatePackage(*der, authority_.get());
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    auto opened = OpenUpdatePackage(*v, transport_key_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(opened->kind, kind);
    EXPECT_EQ(opened->key_id, c.key_id);
    EXPECT_EQ(opened->capacity, c.capacity);
    EXPECT_EQ(opened->certificates, c.certificates);
    EXPECT_TRUE(opened->private_keys.empty());
  }
  // A content that does not fit its operation is never built.
  PackageContent wrong;
  wrong.kind = UpdateKind::kDeleteKey;  // without a key id
  EXPECT_EQ(BuildUpdatePackage(header_, wrong, TransportCert(), who).status().reason(), Reason::kDataInvalid);
  wrong.key_id = Bytes(20, 1);
  wrong.private_keys.push_back(testing::Pkcs8(device_key_.get()));  // a key in a delete package
  EXPECT_EQ(BuildUpdatePackage(header_, wrong, TransportCert(), who).status().reason(), Reason::kDataInvalid);
}

TEST_F(ProvisionTest, PackageWrongSignerRefused) {
  ossl::UniquePtr<EVP_PKEY> other_key = NewP256();
  ossl::UniquePtr<X509> other = MakeCert(other_key.get(), "vendor");  // same name, other key
  Bytes der = Package(other_key.get(), other.get());
  EXPECT_EQ(VerifyUpdatePackage(der, authority_.get()).status().reason(), Reason::kSignatureInvalid);
}

TEST_F(ProvisionTest, PackageDelegatedSignerNeedsEku) {
  auto nids = *GetNids();
  ossl::UniquePtr<EVP_PKEY> k = NewP256();
  ossl::UniquePtr<X509> with_eku = MakeCert(k.get(), "prov", authority_key_.get(), authority_.get(), nids->kp_provisioning);
  EXPECT_TRUE(VerifyUpdatePackage(Package(k.get(), with_eku.get()), authority_.get()).ok());
  ossl::UniquePtr<X509> no_eku = MakeCert(k.get(), "prov2", authority_key_.get(), authority_.get());
  EXPECT_EQ(VerifyUpdatePackage(Package(k.get(), no_eku.get()), authority_.get()).status().reason(),
            Reason::kSignatureInvalid);
}

// UpdateContent version 3: the key wrapped to the transport key (the form a
// CA token exports); the reader unwraps it into the same content.
TEST_F(ProvisionTest, WrappedKeyPackageRoundTrip) {
  Bytes der = Package(authority_key_.get(), authority_.get(), /*wrap=*/true);
  auto v = VerifyUpdatePackage(der, authority_.get());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto c = OpenUpdatePackage(*v, transport_key_.get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->wrap_keys);
  ASSERT_EQ(c->private_keys.size(), 1u);
  EXPECT_TRUE(c->private_keys[0] == testing::Pkcs8(device_key_.get()));
  ossl::UniquePtr<EVP_PKEY> other = NewP256();
  EXPECT_FALSE(OpenUpdatePackage(*v, other.get()).ok());
  // Only a key delivery can wrap.
  PackageContent op;
  op.kind = UpdateKind::kSetCapacity;
  op.wrap_keys = true;
  EXPECT_FALSE(BuildUpdatePackage(header_, op, TransportCert(), CmsSigner{authority_key_.get(), authority_.get(), nullptr}).ok());
}

// The wrap's own integrity check: a WrappedKey whose ciphertext changed (the
// GCM layer aside) does not unwrap.
TEST_F(ProvisionTest, WrappedKeyTamperRefused) {
  auto w = internal::WrapForTransport(testing::Pkcs8(device_key_.get()), transport_key_.get());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto good = internal::UnwrapWithTransport(**w, transport_key_.get());
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_TRUE(*good == testing::Pkcs8(device_key_.get()));
  for (int i = 0; i < (*w)->wrapped->length; ++i) {
    (*w)->wrapped->data[i] ^= 1;
    EXPECT_FALSE(internal::UnwrapWithTransport(**w, transport_key_.get()).ok()) << "byte " << i;
    (*w)->wrapped->data[i] ^= 1;
  }
  ossl::UniquePtr<EVP_PKEY> other = NewP256();
  EXPECT_FALSE(internal::UnwrapWithTransport(**w, other.get()).ok());
}

TEST_F(ProvisionTest, PackageEveryByteFlipRefused) {
  Bytes der = Package(authority_key_.get(), authority_.get());
  // Every byte is covered by the signature, the GCM tag, or the strict
  // checks of what neither covers (DER, versions, sid, algorithms).
  for (size_t i = 0; i < der.size(); ++i) {
    Bytes bad = der;
    bad[i] ^= 0x01;
    auto v = VerifyUpdatePackage(bad, authority_.get());
    EXPECT_FALSE(v.ok() && OpenUpdatePackage(*v, transport_key_.get()).ok()) << "byte " << i << " flipped, accepted";
  }
  Bytes truncated(der.begin(), der.end() - 1);
  EXPECT_FALSE(VerifyUpdatePackage(truncated, authority_.get()).ok());
}

TEST_F(ProvisionTest, PackageWrongTransportKeyCannotOpen) {
  Bytes der = Package(authority_key_.get(), authority_.get());
  auto v = VerifyUpdatePackage(der, authority_.get());
  ASSERT_TRUE(v.ok());
  ossl::UniquePtr<EVP_PKEY> other = NewP256();
  EXPECT_FALSE(OpenUpdatePackage(*v, other.get()).ok());
}

TEST_F(ProvisionTest, ReceiptRoundTrip) {
  UpdateReceipt r{"0000000000000001", 2, Bytes(32, 9), Bytes{1, 2, 3}, "ok"};
  auto der = SignUpdateReceipt(r, CmsSigner{identity_key_.get(), identity_.get(), nullptr});
  ASSERT_TRUE(der.ok());
  auto v = VerifyUpdateReceipt(*der, identity_.get());
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->receipt.counter, 2u);
  EXPECT_EQ(v->receipt.key_id, (Bytes{1, 2, 3}));
  EXPECT_EQ(v->receipt.result, "ok");
  EXPECT_FALSE(VerifyUpdateReceipt(*der, authority_.get()).ok());
  EXPECT_FALSE(VerifyUpdatePackage(*der, authority_.get()).ok());  // content types do not mix
}

}  // namespace
}  // namespace certvault::provision

namespace certvault::provision {
namespace {

TEST(AttestationTest, RoundTripAndChainsToIdentity) {
  auto id_key = testing::NewP256();
  auto id = testing::MakeCert(id_key.get(), "vault identity");
  auto key = testing::NewP256();
  KeyAttestation a{1, true, false, "0123456789abcdef", "1.2.3"};
  auto der = BuildAttestationCert(a, testing::Spki(key.get()), CmsSigner{id_key.get(), id.get(), nullptr});
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  const unsigned char* p = der->data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_verify(cert.get(), id_key.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);
  auto back = ReadAttestation(cert.get());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->origin, 1u);
  EXPECT_TRUE(back->never_extractable);
  EXPECT_FALSE(back->always_sensitive);
  EXPECT_EQ(back->token_serial, "0123456789abcdef");
  EXPECT_EQ(back->software_version, "1.2.3");
  EXPECT_FALSE(ReadAttestation(id.get()).ok());
}

// KeyAttestationCheck: what a CA checks for a profile with require_attestation.
class KeyAttestationCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nids_ = *GetNids();
    root_key_ = testing::NewP256();
    root_ = testing::MakeCert(root_key_.get(), "manufacturer root");
    id_key_ = testing::NewP256();
    id_ = testing::MakeCert(id_key_.get(), "vault identity", root_key_.get(), root_.get(), nids_->kp_vault_identity);
    key_ = testing::NewP256();
  }
  Bytes Attest(EVP_PKEY* key, KeyAttestation a = {1, true, true, "0123456789abcdef", "1"}) {
    auto der = BuildAttestationCert(a, testing::Spki(key), CmsSigner{id_key_.get(), id_.get(), nullptr});
    EXPECT_TRUE(der.ok());
    return *der;
  }
  static ossl::UniquePtr<X509_STORE> Store(X509* root) {
    ossl::UniquePtr<X509_STORE> s(X509_STORE_new());
    X509_STORE_add_cert(s.get(), root);
    return s;
  }
  Status Check(const std::vector<Bytes>& chain, X509* root) {
    return VerifyKeyAttestation(chain, key_.get(), Store(root).get()).status();
  }
  const Nids* nids_ = nullptr;
  ossl::UniquePtr<EVP_PKEY> root_key_, id_key_, key_;
  ossl::UniquePtr<X509> root_, id_;
};

TEST_F(KeyAttestationCheckTest, GeneratedNeverExtractableKeyIsAccepted) {
  auto encoded = EncodeAttestationChain({Attest(key_.get()), CertDer(id_.get())});
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  auto chain = DecodeAttestationChain(*encoded);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  ASSERT_EQ(chain->size(), 2u);
  auto a = VerifyKeyAttestation(*chain, key_.get(), Store(root_.get()).get());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->token_serial, "0123456789abcdef");
  // A self-signed identity (no manufacturer CA yet) that is itself a root.
  auto self_key = testing::NewP256();
  auto self = testing::MakeCert(self_key.get(), "self identity");
  auto att = BuildAttestationCert({1, true, true, "s", "1"}, testing::Spki(key_.get()),
                                  CmsSigner{self_key.get(), self.get(), nullptr});
  EXPECT_TRUE(Check({*att, CertDer(self.get())}, self.get()).ok());
  EXPECT_FALSE(DecodeAttestationChain(Bytes{0x30, 0x00}).ok());
  EXPECT_FALSE(DecodeAttestationChain(Bytes{0x30, 0x03, 0x02, 0x01, 0x01}).ok());
}

TEST_F(KeyAttestationCheckTest, EveryFailedCheckIsRefused) {
  auto other_key = testing::NewP256();
  auto other_root = testing::MakeCert(other_key.get(), "another root");
  Bytes good = Attest(key_.get());
  EXPECT_EQ(Check({good, CertDer(id_.get())}, other_root.get()).code(), StatusCode::kPermissionDenied);  // unknown root
  EXPECT_EQ(Check({Attest(other_key.get()), CertDer(id_.get())}, root_.get()).code(),
            StatusCode::kPermissionDenied);  // another key
  EXPECT_EQ(Check({good}, root_.get()).code(), StatusCode::kPermissionDenied);  // no identity
  EXPECT_EQ(Check({Attest(key_.get(), {2, true, true, "s", "1"}), CertDer(id_.get())}, root_.get()).code(),
            StatusCode::kPermissionDenied);  // imported
  EXPECT_EQ(Check({Attest(key_.get(), {1, false, true, "s", "1"}), CertDer(id_.get())}, root_.get()).code(),
            StatusCode::kPermissionDenied);  // extractable once
  auto no_eku = testing::MakeCert(id_key_.get(), "vault identity", root_key_.get(), root_.get());
  EXPECT_EQ(Check({good, CertDer(no_eku.get())}, root_.get()).code(), StatusCode::kPermissionDenied);
  Bytes flipped = good;
  flipped[flipped.size() - 10] ^= 1;  // in the signature
  EXPECT_FALSE(Check({flipped, CertDer(id_.get())}, root_.get()).ok());
  EXPECT_TRUE(Check({good, CertDer(id_.get())}, root_.get()).ok());
}

}  // namespace
}  // namespace certvault::provision
