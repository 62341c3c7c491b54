// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Issue 14 through the Backend interface: the vault keys, vendor mode, and
// the request -> package -> apply -> receipt flow, with every refusal
// leaving the vault unchanged. The provisioning authority is a software key
// here (certvault-ca's side is tested in ca/).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/core/lifecycle.h"
#include "src/model/vendor_attributes.h"
#include "src/provision/provision.h"
#include "src/provision/test_util.h"

namespace certvault {
namespace {

using provision::testing::CertDer;
using provision::testing::MakeCert;
using provision::testing::NewP256;

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

class ProvisioningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-prov-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/certvault.conf") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n" << ExtraConfig();
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = dir_ + "/certvault.conf";
    options.create_vault = true;
    auto b = OpenEmbeddedBackend(options);
    ASSERT_TRUE(b.ok());
    backend_ = std::move(*b);
    auto slots = backend_->GetSlotList(true);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    slot_ = slots->back();
    ASSERT_TRUE(backend_->InitToken(slot_, Pin("so-pin-1234"), "prov").ok());
    auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(so.ok());
    ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin("so-pin-1234")).ok());
    ASSERT_TRUE(backend_->InitPin(*so, Pin("user-pin-1234")).ok());
    ASSERT_TRUE(backend_->CloseSession(*so).ok());
    auto s = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(s.ok());
    session_ = *s;
    ASSERT_TRUE(backend_->Login(session_, UserType::kUser, Pin("user-pin-1234")).ok());
    Status keys = backend_->CreateVaultKeys(session_);
    ASSERT_TRUE(keys.ok()) << keys.ToString();
    authority_key_ = NewP256();
    authority_ = MakeCert(authority_key_.get(), "vendor authority");
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  // ExtraConfig: more [vault] lines (files it names are written here too).
  virtual std::string ExtraConfig() { return ""; }

  void PinAuthority() { ASSERT_TRUE(backend_->PinAuthority(session_, CertDer(authority_.get())).ok()); }

  // Send: a package of `c` answering `request_der` as certvault-ca would;
  // `edit` changes the header.
  Bytes Send(const Bytes& request_der, const provision::PackageContent& c,
             const std::function<void(provision::PackageHeader*)>& edit = nullptr, EVP_PKEY* signer_key = nullptr,
             X509* signer = nullptr) {
    auto req = provision::VerifyUpdateRequest(request_der, nullptr);
    EXPECT_TRUE(req.ok()) << req.status().ToString();
    provision::PackageHeader h{req->request.token_serial, req->request.counter + 1, req->request.nonce,
                               time(nullptr) + 3600};
    if (edit) edit(&h);
    provision::CmsSigner who{signer_key ? signer_key : authority_key_.get(), signer ? signer : authority_.get()};
    auto der = provision::BuildUpdatePackage(h, c, req->request.transport_cert, who);
    EXPECT_TRUE(der.ok()) << der.status().ToString();
    return der.ok() ? *der : Bytes();
  }

  // Package: delivers a new key (kept in device_) with its certificate chain.
  Bytes Package(const Bytes& request_der, const std::function<void(provision::PackageHeader*)>& edit = nullptr,
                EVP_PKEY* signer_key = nullptr, X509* signer = nullptr) {
    device_ = NewP256();
    provision::PackageContent c;
    c.label = "device-tls";
    c.private_keys.push_back(provision::testing::Pkcs8(device_.get()));
    c.certificates.push_back(CertDer(MakeCert(device_.get(), "dev", authority_key_.get(), authority_.get()).get()));
    c.certificates.push_back(CertDer(authority_.get()));
    return Send(request_der, c, edit, signer_key, signer);
  }

  // Operation: a version 2 package content of `kind`.
  static provision::PackageContent Operation(provision::UpdateKind kind, const Bytes& key_id, uint32_t capacity = 0) {
    provision::PackageContent c;
    c.kind = kind;
    c.label = "device-tls";
    c.key_id = key_id;
    c.capacity = capacity;
    return c;
  }

  Bytes Request() {
    auto r = backend_->UpdateRequest(session_, "device-tls");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Bytes();
  }

  // Snapshot: what a refusal must leave unchanged.
  std::pair<uint64_t, size_t> Snapshot() {
    auto id = backend_->GetVaultIdentity(session_);
    EXPECT_TRUE(id.ok());
    EXPECT_TRUE(backend_->FindObjectsInit(session_, {}).ok());
    auto all = backend_->FindObjects(session_, 1000);
    EXPECT_TRUE(backend_->FindObjectsFinal(session_).ok());
    return {id->counter, all->size()};
  }

  void ExpectRefused(const Bytes& package, Reason reason) {
    auto before = Snapshot();
    auto r = backend_->ApplyUpdate(session_, package);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), reason) << r.status().ToString();
    EXPECT_EQ(Snapshot(), before) << "a refused package changed the vault";
  }

  std::string dir_;
  std::unique_ptr<Backend> backend_;
  SlotId slot_ = 0;
  SessionHandle session_ = 0;
  ossl::UniquePtr<EVP_PKEY> authority_key_;
  ossl::UniquePtr<X509> authority_;
  ossl::UniquePtr<EVP_PKEY> device_;  // the key of the last Package()
};

ObjectHandle FindByLabel(Backend& b, SessionHandle s, uint64_t cls, std::string_view label) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, cls);
  t.SetString(CKA_LABEL, label);
  EXPECT_TRUE(b.FindObjectsInit(s, t).ok());
  auto found = b.FindObjects(s, 10);
  EXPECT_TRUE(b.FindObjectsFinal(s).ok());
  return found.ok() && found->size() == 1 ? found->front() : 0;
}

TEST_F(ProvisioningTest, VaultKeysAreUnusableThroughTheBackend) {
  for (const char* label : {"certvault identity", "certvault transport"}) {
    ObjectHandle k = FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, label);
    ASSERT_NE(k, 0u) << label;
    EXPECT_FALSE(backend_->SignInit(session_, Mechanism{CKM_ECDSA, {}}, k).ok());
    EXPECT_FALSE(backend_->SignInit(session_, Mechanism{CKM_ECDSA_SHA256, {}}, k).ok());
    EXPECT_FALSE(backend_->DecryptInit(session_, Mechanism{CKM_ECDSA, {}}, k).ok());
    AttributeSet derive;
    derive.SetUlong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    EXPECT_FALSE(backend_->DeriveKey(session_, Mechanism{CKM_ECDH1_DERIVE, {}}, k, derive).ok());
    AttributeSet enable;
    enable.SetBool(CKA_SIGN, true);
    EXPECT_FALSE(backend_->SetAttributeValue(session_, k, enable).ok());
    EXPECT_FALSE(backend_->CopyObject(session_, k, {}).ok());
    EXPECT_FALSE(backend_->DestroyObject(session_, k).ok());
    std::vector<AttributeRequest> req(3);
    req[0].type = CKA_VALUE;
    req[1].type = CKA_LOCAL;
    req[2].type = kCkaCvVaultRole;
    EXPECT_EQ(backend_->GetAttributeValue(session_, k, &req).reason(), Reason::kAttributeSensitive);
    EXPECT_EQ(req[1].value, SecureVector{1}) << "CKA_LOCAL";
    EXPECT_EQ(req[2].status, Reason::kNone);
  }
  EXPECT_EQ(backend_->CreateVaultKeys(session_).code(), StatusCode::kAlreadyExists);
}

TEST_F(ProvisioningTest, ApplicationCannotForgeTheVaultRole) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_DATA);
  t.SetBool(CKA_TOKEN, true);
  t.SetUlong(kCkaCvVaultRole, kCvRoleAuthority);
  EXPECT_FALSE(backend_->CreateObject(session_, t).ok());
}

TEST_F(ProvisioningTest, IdentityCsrAndImport) {
  auto csr = backend_->IdentityCsr(session_, "/CN=vault 1/O=maker");
  ASSERT_TRUE(csr.ok()) << csr.status().ToString();
  const unsigned char* p = csr->data();
  ossl::UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr->size())));
  ASSERT_NE(req, nullptr);
  ossl::UniquePtr<EVP_PKEY> id_pub(X509_REQ_get_pubkey(req.get()));
  ossl::UniquePtr<EVP_PKEY> maker_key = NewP256();
  ossl::UniquePtr<X509> maker = MakeCert(maker_key.get(), "maker");
  ossl::UniquePtr<X509> issued = MakeCert(id_pub.get(), "vault 1", maker_key.get(), maker.get());
  ASSERT_TRUE(backend_->ImportIdentityCert(session_, CertDer(issued.get())).ok());
  auto id = backend_->GetVaultIdentity(session_);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->identity_cert, CertDer(issued.get()));
  // A request now carries the manufacturer-issued certificate and chains to it.
  ossl::UniquePtr<X509_STORE> roots(X509_STORE_new());
  X509_STORE_set_purpose(roots.get(), X509_PURPOSE_ANY);
  X509_STORE_add_cert(roots.get(), maker.get());
  EXPECT_TRUE(provision::VerifyUpdateRequest(Request(), roots.get()).ok());
  // Someone else's certificate is refused.
  EXPECT_EQ(backend_->ImportIdentityCert(session_, CertDer(maker.get())).reason(), Reason::kKeyTypeInconsistent);
}

TEST_F(ProvisioningTest, FullFlow) {
  PinAuthority();
  Bytes req = Request();
  Bytes pkg = Package(req);
  auto r = backend_->ApplyUpdate(session_, pkg);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->counter, 1u);
  auto id = backend_->GetVaultIdentity(session_);
  const unsigned char* p = id->identity_cert.data();
  ossl::UniquePtr<X509> id_cert(d2i_X509(nullptr, &p, static_cast<long>(id->identity_cert.size())));
  auto receipt = provision::VerifyUpdateReceipt(r->receipt, id_cert.get());
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString();
  EXPECT_EQ(receipt->receipt.counter, 1u);
  EXPECT_EQ(receipt->receipt.package_hash, *provision::Sha256(pkg));
  EXPECT_EQ(receipt->receipt.key_id, r->key_id);
  ObjectHandle key = FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls");
  ASSERT_NE(key, 0u);
  std::vector<AttributeRequest> attrs(4);
  attrs[0].type = CKA_SENSITIVE;
  attrs[1].type = CKA_EXTRACTABLE;
  attrs[2].type = CKA_LOCAL;
  attrs[3].type = kCkaCvProvenance;
  ASSERT_TRUE(backend_->GetAttributeValue(session_, key, &attrs).ok());
  EXPECT_EQ(attrs[0].value, SecureVector{1});
  EXPECT_EQ(attrs[1].value, SecureVector{0});
  EXPECT_EQ(attrs[2].value, SecureVector{0});
  SecureVector provisioned(8, 0);
  provisioned[0] = kCvProvenanceProvisioned;  // CK_ULONG, host order (little-endian here)
  EXPECT_EQ(attrs[3].value, provisioned);
  EXPECT_TRUE(backend_->SignInit(session_, Mechanism{CKM_ECDSA_SHA256, {}}, key).ok());
  // Replayed: refused, nothing changed.
  ExpectRefused(pkg, Reason::kDataInvalid);
}

// policy.toml [crypto_periods] max_key_days also bounds a delivered key:
// it gets the period's end date like any key made or imported in the vault.
class ProvisioningPolicyTest : public ProvisioningTest {
 protected:
  std::string ExtraConfig() override {
    std::ofstream(dir_ + "/policy.toml") << "[crypto_periods]\nmax_key_days = 30\n";
    return "policy = policy.toml\n";
  }
};

TEST_F(ProvisioningPolicyTest, DeliveredKeyGetsThePolicyPeriod) {
  PinAuthority();
  auto r = backend_->ApplyUpdate(session_, Package(Request()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ObjectHandle key = FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls");
  ASSERT_NE(key, 0u);
  std::vector<AttributeRequest> end(1);
  end[0].type = CKA_END_DATE;
  ASSERT_TRUE(backend_->GetAttributeValue(session_, key, &end).ok());
  std::chrono::year_month_day last(lifecycle::Today() + std::chrono::days(30));
  char want[16];
  std::snprintf(want, sizeof(want), "%04d%02u%02u", static_cast<int>(last.year()), static_cast<unsigned>(last.month()),
                static_cast<unsigned>(last.day()));
  EXPECT_EQ(std::string(end[0].value.begin(), end[0].value.end()), want);
}

TEST_F(ProvisioningTest, UserModeRefusesPackages) {
  Bytes req = Request();
  ExpectRefused(Package(req), Reason::kFunctionNotSupported);
}

TEST_F(ProvisioningTest, RefusalsChangeNothing) {
  PinAuthority();
  Bytes req = Request();
  ExpectRefused(Package(req, [](provision::PackageHeader* h) { h->counter += 1; }), Reason::kDataInvalid);
  ExpectRefused(Package(req, [](provision::PackageHeader* h) { h->counter -= 1; }), Reason::kDataInvalid);
  ExpectRefused(Package(req, [](provision::PackageHeader* h) { h->target_serial = "ffffffffffffffff"; }),
                Reason::kDataInvalid);
  ExpectRefused(Package(req, [](provision::PackageHeader* h) { h->expires_unix = time(nullptr) - 1; }),
                Reason::kDataInvalid);
  ExpectRefused(Package(req, [](provision::PackageHeader* h) { h->nonce[0] ^= 1; }), Reason::kDataInvalid);
  ossl::UniquePtr<EVP_PKEY> other_key = NewP256();
  ossl::UniquePtr<X509> other = MakeCert(other_key.get(), "vendor authority");
  ExpectRefused(Package(req, nullptr, other_key.get(), other.get()), Reason::kSignatureInvalid);
  Bytes good = Package(req);
  for (size_t i : {size_t{3}, good.size() / 3, good.size() / 2, good.size() - 80, good.size() - 1}) {
    Bytes bad = good;
    bad[i] ^= 0x20;
    auto before = Snapshot();
    EXPECT_FALSE(backend_->ApplyUpdate(session_, bad).ok()) << "byte " << i;
    EXPECT_EQ(Snapshot(), before);
  }
  EXPECT_TRUE(backend_->ApplyUpdate(session_, good).ok());  // the untouched one still applies
}

TEST_F(ProvisioningTest, ChainOfPackagesInOrderOnly) {
  PinAuthority();
  Bytes r1 = Request();
  Bytes p1 = Package(r1);
  ASSERT_TRUE(backend_->ApplyUpdate(session_, p1).ok());
  Bytes r2 = Request();
  Bytes r3 = Request();
  Bytes p2 = Package(r2);                                                                  // counter 2
  Bytes p3 = Package(r3, [](provision::PackageHeader* h) { h->counter = 3; });              // counter 3
  ExpectRefused(p3, Reason::kDataInvalid);  // out of order: skips 2
  ASSERT_TRUE(backend_->ApplyUpdate(session_, p2).ok());
  auto r = backend_->ApplyUpdate(session_, p3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->counter, 3u);
}

TEST_F(ProvisioningTest, AttestationOfGeneratedAndProvisionedKeys) {
  static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  auto pair = backend_->GenerateKeyPair(session_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  ASSERT_TRUE(pair.ok());
  auto der = backend_->Attest(session_, pair->private_key);
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  auto id = backend_->GetVaultIdentity(session_);
  const unsigned char* p = id->identity_cert.data();
  ossl::UniquePtr<X509> id_cert(d2i_X509(nullptr, &p, static_cast<long>(id->identity_cert.size())));
  p = der->data();
  ossl::UniquePtr<X509> att(d2i_X509(nullptr, &p, static_cast<long>(der->size())));
  ASSERT_NE(att, nullptr);
  EXPECT_EQ(X509_verify(att.get(), X509_get0_pubkey(id_cert.get())), 1);
  auto st = provision::ReadAttestation(att.get());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->origin, kCvProvenanceGenerated);
  EXPECT_TRUE(st->never_extractable);
  EXPECT_EQ(st->token_serial, id->token_serial);
  EXPECT_EQ(backend_->Attest(session_, pair->public_key).status().reason(), Reason::kKeyHandleInvalid);
  PinAuthority();
  auto applied = backend_->ApplyUpdate(session_, Package(Request()));
  ASSERT_TRUE(applied.ok());
  ObjectHandle key = FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls");
  auto der2 = backend_->Attest(session_, key);
  ASSERT_TRUE(der2.ok()) << der2.status().ToString();
  p = der2->data();
  ossl::UniquePtr<X509> att2(d2i_X509(nullptr, &p, static_cast<long>(der2->size())));
  auto st2 = provision::ReadAttestation(att2.get());
  ASSERT_TRUE(st2.ok());
  EXPECT_EQ(st2->origin, kCvProvenanceProvisioned);
  EXPECT_FALSE(st2->never_extractable);  // it existed outside the vault
}

TEST_F(ProvisioningTest, AuthorityIsPinnedOnce) {
  PinAuthority();
  EXPECT_EQ(backend_->PinAuthority(session_, CertDer(authority_.get())).code(), StatusCode::kAlreadyExists);
}

// CertsWithId: the DER values of the certificates whose CKA_ID is `id`.
std::vector<Bytes> CertsWithId(Backend& b, SessionHandle s, const Bytes& id) {
  AttributeSet t;
  t.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  t.Set(CKA_ID, id);
  EXPECT_TRUE(b.FindObjectsInit(s, t).ok());
  auto found = b.FindObjects(s, 10);
  EXPECT_TRUE(b.FindObjectsFinal(s).ok());
  std::vector<Bytes> out;
  for (ObjectHandle h : *found) {
    std::vector<AttributeRequest> v(1);
    v[0].type = CKA_VALUE;
    EXPECT_TRUE(b.GetAttributeValue(s, h, &v).ok());
    out.emplace_back(v[0].value.begin(), v[0].value.end());
  }
  return out;
}

TEST_F(ProvisioningTest, RenewalReplacesTheCertificateOfTheSameKey) {
  PinAuthority();
  auto first = backend_->ApplyUpdate(session_, Package(Request()));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ObjectHandle key = FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls");
  Bytes renewed = CertDer(MakeCert(device_.get(), "dev-renewed", authority_key_.get(), authority_.get()).get());
  provision::PackageContent renew = Operation(provision::UpdateKind::kRenewCertificate, first->key_id);
  renew.certificates = {renewed, CertDer(authority_.get())};
  // Refused, nothing changed: a certificate of another key; an unknown key id.
  Bytes req = Request();
  provision::PackageContent other = Operation(provision::UpdateKind::kRenewCertificate, first->key_id);
  ossl::UniquePtr<EVP_PKEY> other_key = NewP256();
  other.certificates = {CertDer(MakeCert(other_key.get(), "dev-other", authority_key_.get(), authority_.get()).get())};
  ExpectRefused(Send(req, other), Reason::kDataInvalid);
  provision::PackageContent unknown = Operation(provision::UpdateKind::kRenewCertificate, first->key_id);
  unknown.certificates = renew.certificates;
  unknown.key_id[0] ^= 1;
  ExpectRefused(Send(req, unknown), Reason::kDataInvalid);
  auto before = Snapshot();
  auto r = backend_->ApplyUpdate(session_, Send(req, renew));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->counter, 2u);
  EXPECT_EQ(r->key_id, first->key_id);
  EXPECT_EQ(FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls"), key);  // the same key object
  EXPECT_EQ(CertsWithId(*backend_, session_, first->key_id), std::vector<Bytes>{renewed});
  EXPECT_EQ(Snapshot().second, before.second);  // the leaf replaced; the CA certificate was held already
}

TEST_F(ProvisioningTest, DeletionRemovesTheKeyAndItsCertificates) {
  PinAuthority();
  auto first = backend_->ApplyUpdate(session_, Package(Request()));
  ASSERT_TRUE(first.ok());
  Bytes req = Request();
  Bytes unknown_id = first->key_id;
  unknown_id[0] ^= 1;
  ExpectRefused(Send(req, Operation(provision::UpdateKind::kDeleteKey, unknown_id)), Reason::kDataInvalid);
  // The vault's own keys are not found by their CKA_ID; a key the
  // application made not destroyable stays.
  ExpectRefused(Send(req, Operation(provision::UpdateKind::kDeleteKey, ToBytes("certvault identity"))),
                Reason::kDataInvalid);
  static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_DESTROYABLE, false);
  priv.Set(CKA_ID, ToBytes("keep"));
  ASSERT_TRUE(backend_->GenerateKeyPair(session_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).ok());
  ExpectRefused(Send(req, Operation(provision::UpdateKind::kDeleteKey, ToBytes("keep"))), Reason::kDataInvalid);
  auto before = Snapshot();
  auto r = backend_->ApplyUpdate(session_, Send(req, Operation(provision::UpdateKind::kDeleteKey, first->key_id)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key_id, first->key_id);
  EXPECT_EQ(FindByLabel(*backend_, session_, CKO_PRIVATE_KEY, "device-tls"), 0u);
  EXPECT_TRUE(CertsWithId(*backend_, session_, first->key_id).empty());
  EXPECT_EQ(Snapshot().second, before.second - 2);  // the key and its certificate
}

TEST_F(ProvisioningTest, CapacityPackageSetsTheLimit) {
  PinAuthority();
  ASSERT_TRUE(backend_->ApplyUpdate(session_, Package(Request())).ok());  // 1 key, 2 certificates
  Bytes req = Request();
  ExpectRefused(Send(req, Operation(provision::UpdateKind::kSetCapacity, {}, 1)), Reason::kDataInvalid);  // below use
  ASSERT_TRUE(backend_->ApplyUpdate(session_, Send(req, Operation(provision::UpdateKind::kSetCapacity, {}, 3))).ok());
  // The new capacity is part of the MACed token row: a fresh login verifies it.
  ASSERT_TRUE(backend_->Logout(session_).ok());
  Status login = backend_->Login(session_, UserType::kUser, Pin("user-pin-1234"));
  ASSERT_TRUE(login.ok()) << login.ToString();
  ExpectRefused(Package(Request()), Reason::kCapacityExceeded);  // would hold 4 certificates
  ASSERT_TRUE(backend_->ApplyUpdate(session_, Send(Request(), Operation(provision::UpdateKind::kSetCapacity, {}, 0))).ok());
  EXPECT_TRUE(backend_->ApplyUpdate(session_, Package(Request())).ok());  // unlimited again
}

TEST_F(ProvisioningTest, EveryKindHasTheKeyPackagesChecks) {
  PinAuthority();
  auto first = backend_->ApplyUpdate(session_, Package(Request()));
  ASSERT_TRUE(first.ok());
  ossl::UniquePtr<EVP_PKEY> other_key = NewP256();
  ossl::UniquePtr<X509> other = MakeCert(other_key.get(), "vendor authority");
  std::vector<provision::PackageContent> kinds;
  kinds.push_back(Operation(provision::UpdateKind::kRenewCertificate, first->key_id));
  kinds.back().certificates = {CertDer(MakeCert(device_.get(), "dev-2", authority_key_.get(), authority_.get()).get())};
  kinds.push_back(Operation(provision::UpdateKind::kSetCapacity, {}, 5));
  kinds.push_back(Operation(provision::UpdateKind::kDeleteKey, first->key_id));
  for (const provision::PackageContent& c : kinds) {
    Bytes req = Request();
    ExpectRefused(Send(req, c, [](provision::PackageHeader* h) { h->counter += 1; }), Reason::kDataInvalid);
    ExpectRefused(Send(req, c, [](provision::PackageHeader* h) { h->target_serial = "ffffffffffffffff"; }),
                  Reason::kDataInvalid);
    ExpectRefused(Send(req, c, [](provision::PackageHeader* h) { h->expires_unix = time(nullptr) - 1; }),
                  Reason::kDataInvalid);
    ExpectRefused(Send(req, c, [](provision::PackageHeader* h) { h->nonce[0] ^= 1; }), Reason::kDataInvalid);
    ExpectRefused(Send(req, c, nullptr, other_key.get(), other.get()), Reason::kSignatureInvalid);
    Bytes good = Send(req, c);
    Bytes bad = good;
    bad[bad.size() - 40] ^= 0x20;
    auto before = Snapshot();
    EXPECT_FALSE(backend_->ApplyUpdate(session_, bad).ok());
    EXPECT_EQ(Snapshot(), before);
    ASSERT_TRUE(backend_->ApplyUpdate(session_, good).ok()) << static_cast<int>(c.kind);
    ExpectRefused(good, Reason::kDataInvalid);  // replay
  }
}

// Rotation: a package signed by the pinned authority itself moves the pin;
// afterwards only the new authority is accepted.
TEST_F(ProvisioningTest, AuthorityRotationByPackage) {
  PinAuthority();
  ossl::UniquePtr<EVP_PKEY> next_key = NewP256();
  ossl::UniquePtr<X509> next = MakeCert(next_key.get(), "vendor authority 2");
  auto rotation = [](X509* to) {
    provision::PackageContent c = Operation(provision::UpdateKind::kRotateAuthority, {});
    c.certificates = {CertDer(to)};
    return c;
  };
  provision::PackageContent rotate = rotation(next.get());
  Bytes req = Request();
  // A signer the authority delegated to (cvProvisioning EKU) may deliver keys but not rotate.
  auto nids = provision::GetNids();
  ASSERT_TRUE(nids.ok());
  ossl::UniquePtr<EVP_PKEY> del_key = NewP256();
  ossl::UniquePtr<X509> delegated =
      MakeCert(del_key.get(), "delegated", authority_key_.get(), authority_.get(), (*nids)->kp_provisioning);
  ExpectRefused(Send(req, rotate, nullptr, del_key.get(), delegated.get()), Reason::kSignatureInvalid);
  ExpectRefused(Send(req, rotate, nullptr, next_key.get(), next.get()), Reason::kSignatureInvalid);  // the new one
  ExpectRefused(Send(req, rotation(authority_.get())), Reason::kDataInvalid);  // the pinned one again
  ExpectRefused(Send(req, rotate, [](provision::PackageHeader* h) { h->target_serial = "ffffffffffffffff"; }),
                Reason::kDataInvalid);
  ExpectRefused(Send(req, rotate, [](provision::PackageHeader* h) { h->counter += 1; }), Reason::kDataInvalid);
  Bytes good = Send(req, rotate);
  Bytes bad = good;
  bad[bad.size() - 40] ^= 0x20;
  auto before = Snapshot();
  EXPECT_FALSE(backend_->ApplyUpdate(session_, bad).ok());
  EXPECT_EQ(Snapshot(), before);
  auto applied = backend_->ApplyUpdate(session_, good);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ExpectRefused(good, Reason::kSignatureInvalid);  // a replay: its signer is no longer pinned
  // The old authority is refused from now on, also for a rotation back.
  req = Request();
  ExpectRefused(Package(req), Reason::kSignatureInvalid);
  ExpectRefused(Send(req, rotation(authority_.get())), Reason::kSignatureInvalid);
  // The new one delivers (its own chain: the device certificate is checked against the key only).
  auto delivered = backend_->ApplyUpdate(session_, Package(req, nullptr, next_key.get(), next.get()));
  EXPECT_TRUE(delivered.ok()) << delivered.status().ToString();
  // The pin survives a fresh login (sealed, MACed like every vault object).
  ASSERT_TRUE(backend_->Logout(session_).ok());
  ASSERT_TRUE(backend_->Login(session_, UserType::kUser, Pin("user-pin-1234")).ok());
  ExpectRefused(Package(Request()), Reason::kSignatureInvalid);
}

}  // namespace
}  // namespace certvault
