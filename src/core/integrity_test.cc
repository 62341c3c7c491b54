// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Offline edits of vault.db (issue 11 §1), made with the SQLite C API the way
// an attacker with a copy of the file would, each detected by the embedded
// backend (docs/formats/integrity.md): the edited object is refused with
// kCorruptStore (CKR_DEVICE_ERROR), the others keep working.
#include "src/core/integrity_test_fixture.h"

namespace certvault {
namespace {

Bytes Ulongs(std::initializer_list<uint64_t> values) {
  Bytes out;
  for (uint64_t v : values) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
  }
  return out;
}

// Generates EC key pairs until one lands in an object-set group other than
// those of `avoid` (object ids are random).
Backend::KeyPair Elsewhere(std::vector<ObjectHandle> avoid,
                           const std::function<Backend::KeyPair()>& gen) {
  for (;;) {
    Backend::KeyPair kp = gen();
    bool clash = false;
    for (ObjectHandle h : avoid) {
      clash |= core::BucketOf(h) == core::BucketOf(kp.private_key) || core::BucketOf(h) == core::BucketOf(kp.public_key);
    }
    if (!clash) return kp;
  }
}

// Generates EC key pairs until one has its two keys in different groups.
Backend::KeyPair Apart(const std::function<Backend::KeyPair()>& gen) {
  for (;;) {
    Backend::KeyPair kp = gen();
    if (core::BucketOf(kp.private_key) != core::BucketOf(kp.public_key)) return kp;
  }
}

TEST_F(IntegrityTest, SensitiveAndExtractableFlipIsRefused) {
  ObjectHandle wrapper = GenerateAes("wrapper", /*wrap=*/true);
  ObjectHandle victim = GenerateAes("victim", false);
  Backend::KeyPair ec = GenerateEc("ec", {1});
  EXPECT_EQ(ReadStatus(victim, CKA_VALUE).reason(), Reason::kAttributeSensitive);
  EditRecord(victim, CKA_SENSITIVE, {0});
  EditRecord(victim, CKA_EXTRACTABLE, {1});
  EditRecord(ec.private_key, CKA_SENSITIVE, {0});
  EditRecord(ec.private_key, CKA_EXTRACTABLE, {1});
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(ReadStatus(victim, CKA_VALUE));
  ExpectRefused(ReadStatus(ec.private_key, CKA_VALUE));
  uint8_t out[64];
  size_t len = sizeof out;
  ExpectRefused(backend_->WrapKey(session_, Mechanism{CKM_AES_KEY_WRAP_PAD, {}}, wrapper, victim, OutBuf{out, &len}));
  ExpectRefused(SignStatus(ec.private_key));
  // The refusal names the object.
  EXPECT_NE(ReadStatus(victim, CKA_LABEL).message().find("\"victim\""), std::string::npos);
  // The other objects keep working.
  EXPECT_TRUE(ReadStatus(wrapper, CKA_LABEL).ok());
  EXPECT_TRUE(ReadStatus(ec.public_key, CKA_EC_POINT).ok());
}

TEST_F(IntegrityTest, StrippedOrLegacyRecordOfAnUpgradedTokenIsRefused) {
  Backend::KeyPair a = GenerateEc("a", {1});
  // Stripping a MAC also takes the object out of the set: its group fails.
  Backend::KeyPair b = Elsewhere({a.private_key, a.public_key}, [&] { return GenerateEc("b", {2}); });
  Row row = GetRow(a.private_key);
  auto entries = storage::DecodeRecord(row.record);
  ASSERT_TRUE(entries.ok());
  for (storage::RecordEntry& e : *entries) {
    if (e.type == CKA_SENSITIVE) e.value = {0};
  }
  row.record = storage::EncodeRecord({}, storage::EncodeRecordBody(*entries));  // MAC stripped
  PutRow(a.private_key, row);
  row.record = storage::EncodeRecordV1(*entries);  // a version-1 record
  PutRow(a.public_key, row);
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(SignStatus(a.private_key));
  ExpectRefused(ReadStatus(a.public_key, CKA_LABEL));
  EXPECT_TRUE(SignStatus(b.private_key).ok());
}

TEST_F(IntegrityTest, WidenedAllowedMechanismsIsRefused) {
  Backend::KeyPair ec = GenerateEc("ec", {1}, Ulongs({CKM_ECDSA_SHA256}));
  Backend::KeyPair other = GenerateEc("other", {2});
  EXPECT_EQ(SignStatus(ec.private_key).reason(), Reason::kMechanismInvalid);
  EditRecord(ec.private_key, CKA_ALLOWED_MECHANISMS, Ulongs({CKM_ECDSA_SHA256, CKM_ECDSA}));
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(SignStatus(ec.private_key));
  EXPECT_TRUE(SignStatus(other.private_key).ok());
}

TEST_F(IntegrityTest, SwappedLabelAndIdAreRefused) {
  Backend::KeyPair a = GenerateEc("A", {0xa});
  Backend::KeyPair b = GenerateEc("B", {0xb});
  // The swapped public key rows damage their groups: C is kept out of them.
  Backend::KeyPair c = Elsewhere({a.private_key, a.public_key, b.private_key, b.public_key},
                                 [&] { return GenerateEc("C", {0xc}); });
  // Columns only: a lookup of "A" finds B's row, whose record says "B".
  Row ra = GetRow(a.private_key), rb = GetRow(b.private_key);
  std::swap(ra.label, rb.label);
  std::swap(ra.ckid, rb.ckid);
  PutRow(a.private_key, ra);
  PutRow(b.private_key, rb);
  // Columns and records of the public keys: each MAC names its own object id.
  Row pa = GetRow(a.public_key), pb = GetRow(b.public_key);
  PutRow(a.public_key, pb);
  PutRow(b.public_key, pa);
  ASSERT_TRUE(Restart().ok());
  auto found = FindByLabel("A", CKO_PRIVATE_KEY);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front(), b.private_key);
  ExpectRefused(SignStatus(found->front()));
  ExpectRefused(SignStatus(a.private_key));
  ExpectRefused(ReadStatus(a.public_key, CKA_LABEL));
  ExpectRefused(ReadStatus(b.public_key, CKA_LABEL));
  EXPECT_TRUE(SignStatus(c.private_key).ok());
}

TEST_F(IntegrityTest, OlderCopyOfARowIsRefusedAtLogin) {
  Backend::KeyPair a = GenerateEc("a", {1});
  Backend::KeyPair b = Elsewhere({a.private_key, a.public_key}, [&] { return GenerateEc("b", {2}); });
  Row old = GetRow(a.private_key);  // the attacker's copy (version 1, valid MAC)
  AttributeSet change;
  change.SetBool(CKA_SIGN, false);  // the owner turns signing off
  ASSERT_TRUE(backend_->SetAttributeValue(session_, a.private_key, change).ok());
  EXPECT_EQ(SignStatus(a.private_key).reason(), Reason::kKeyFunctionNotPermitted);
  PutRow(a.private_key, old);  // ... and the attacker puts the old row back
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(SignStatus(a.private_key));
  EXPECT_TRUE(SignStatus(b.private_key).ok());
}

// While logged in, too: the process remembers the newest version it saw.
TEST_F(IntegrityTest, OlderCopyOfARowIsRefusedWhileLoggedIn) {
  Backend::KeyPair a = GenerateEc("a", {1});
  Backend::KeyPair b = Elsewhere({a.private_key, a.public_key}, [&] { return GenerateEc("b", {2}); });
  ASSERT_TRUE(Restart().ok());
  Row old = GetRow(a.private_key);
  EXPECT_TRUE(SignStatus(a.private_key).ok());
  AttributeSet change;
  change.SetBool(CKA_SIGN, false);
  ASSERT_TRUE(backend_->SetAttributeValue(session_, a.private_key, change).ok());
  PutRow(a.private_key, old);  // no restart: the same login
  ExpectRefused(SignStatus(a.private_key));
  EXPECT_TRUE(SignStatus(b.private_key).ok());
}

TEST_F(IntegrityTest, DeletedRowIsDetectedAtLogin) {
  Backend::KeyPair a = GenerateEc("a", {1});
  Backend::KeyPair b = Elsewhere({a.private_key, a.public_key}, [&] { return GenerateEc("b", {2}); });
  Sql("DELETE FROM objects WHERE object_id = " + std::to_string(a.public_key));
  ASSERT_TRUE(Restart().ok());
  // The group of the deleted row is refused (its other members with it);
  // the rest of the token works.
  if (core::BucketOf(a.private_key) == core::BucketOf(a.public_key)) {
    ExpectRefused(SignStatus(a.private_key));
  }
  EXPECT_TRUE(SignStatus(b.private_key).ok());
  EXPECT_TRUE(ReadStatus(b.public_key, CKA_EC_POINT).ok());
}

TEST_F(IntegrityTest, EditedTokenRecordRefusesLogin) {
  for (const char* edit : {"flags = flags | 1", "capacity = 1", "policy = x'01'", "label = 'other'"}) {
    SCOPED_TRACE(edit);
    std::string dir = dir_ + "/vault/vault.db";
    backend_.reset();  // the last connection's close checkpoints the WAL into the file
    std::filesystem::copy_file(dir, dir_ + "/saved.db", std::filesystem::copy_options::overwrite_existing);
    Sql(std::string("UPDATE tokens SET ") + edit);
    Status st = Restart();
    ExpectRefused(st);
    EXPECT_NE(st.message().find("token"), std::string::npos) << st.ToString();
    backend_.reset();
    std::filesystem::copy_file(dir_ + "/saved.db", dir, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(dir + "-wal");
    std::filesystem::remove(dir + "-shm");
    EXPECT_TRUE(Restart().ok());
  }
}

// The PIN policy in the token flags is checked when C_InitPIN uses it, not
// only at login: an edit made while the SO is logged in is refused too.
TEST_F(IntegrityTest, InitPinRefusesAnEditedTokenRow) {
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Logout(session_).ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  Sql("UPDATE tokens SET flags = flags | 1");
  ExpectRefused(backend_->InitPin(*so, Pin("another-pin-1234")));
}

TEST_F(IntegrityTest, LegacyTokenIsUpgradedAtFirstLogin) {
  // The public key's group fails below; the private key is kept out of it.
  Backend::KeyPair a = Apart([&] { return GenerateEc("a", {1}); });
  MakeLegacyToken({a.private_key, a.public_key});
  ASSERT_TRUE(Restart().ok());  // trust on first use
  EXPECT_TRUE(SignStatus(a.private_key).ok());
  Row upgraded = GetRow(a.private_key);
  EXPECT_EQ(upgraded.version, 2);
  EXPECT_EQ(storage::ParseRecordHeader(upgraded.record)->mac.size(), storage::kRecordMacSize);
  // From now on a version-1 record is refused.
  Row row = GetRow(a.public_key);
  row.record = storage::EncodeRecordV1(*storage::DecodeRecord(row.record));
  PutRow(a.public_key, row);
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(ReadStatus(a.public_key, CKA_LABEL));
  EXPECT_TRUE(SignStatus(a.private_key).ok());
}

TEST_F(IntegrityTest, PublicObjectsWrittenWithoutLoginAreUnauthenticated) {
  Backend::KeyPair a = GenerateEc("a", {1});
  ASSERT_TRUE(backend_->Logout(session_).ok());
  // A certificate-like public data object stored from a public R/W session.
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_TOKEN, true);
  data.SetBool(CKA_PRIVATE, false);
  data.SetString(CKA_LABEL, "note");
  data.Set(CKA_VALUE, Bytes{1, 2, 3});
  auto note = backend_->CreateObject(session_, data);
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_TRUE(storage::ParseRecordHeader(GetRow(*note).record)->mac.empty());
  // An authenticated object cannot be changed without the key.
  AttributeSet rename;
  rename.SetString(CKA_LABEL, "renamed");
  EXPECT_EQ(backend_->SetAttributeValue(session_, a.public_key, rename).reason(), Reason::kUserNotLoggedIn);
  EXPECT_EQ(backend_->DestroyObject(session_, a.public_key).reason(), Reason::kUserNotLoggedIn);
  EXPECT_TRUE(backend_->SetAttributeValue(session_, *note, rename).ok());
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(ReadStatus(*note, CKA_VALUE).ok());
  // Changed while logged in, it gets its MAC.
  ASSERT_TRUE(backend_->SetAttributeValue(session_, *note, rename).ok());
  EXPECT_EQ(storage::ParseRecordHeader(GetRow(*note).record)->mac.size(), storage::kRecordMacSize);
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(ReadStatus(*note, CKA_VALUE).ok());
  EXPECT_TRUE(SignStatus(a.private_key).ok());
  EXPECT_TRUE(backend_->DestroyObject(session_, a.public_key).ok());
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(SignStatus(a.private_key).ok());
}

TEST_F(IntegrityTest, UnauthenticatedPrivateKeyRowIsRefused) {
  Backend::KeyPair a = GenerateEc("a", {1});
  // An attacker adds a private key row without a MAC (e.g. one copied from
  // another vault, given a fresh id).
  Row row = GetRow(a.private_key);
  auto entries = storage::DecodeRecord(row.record);
  row.record = storage::EncodeRecord({}, storage::EncodeRecordBody(*entries));
  Sql("INSERT INTO objects(object_id, token_id, class, label, ckid, is_private, version, record) VALUES (77, " +
          std::to_string(slot_) + ", " + std::to_string(CKO_PRIVATE_KEY) + ", ?1, ?2, 1, 1, ?3)",
      {row.label, row.ckid, row.record});
  ASSERT_TRUE(Restart().ok());
  ExpectRefused(SignStatus(77));
  if (core::BucketOf(a.private_key) != 77 % core::kSetBuckets) {
    EXPECT_TRUE(SignStatus(a.private_key).ok());
  }
}

// A session opened while the token row was edited (here: its label, which
// selects the configured mechanism allow-list) takes the verified row's
// allow-list at login, even if the edit was undone in between.
TEST_F(IntegrityTest, SessionsAdoptTheTokenRowVerifiedAtLogin) {
  std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n"
                       << "[token \"test\"]\nmechanisms = CKM_EC_KEY_PAIR_GEN, CKM_ECDSA\n";
  ASSERT_TRUE(Restart().ok());
  Backend::KeyPair a = GenerateEc("a", {1});
  EXPECT_EQ(backend_->SignInit(session_, Mechanism{CKM_ECDSA_SHA256, {}}, a.private_key).reason(),
            Reason::kMechanismInvalid);
  backend_.reset();
  Sql("UPDATE tokens SET label = 'unlisted'");
  backend_ = Open();
  auto s = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(s.ok());
  Sql("UPDATE tokens SET label = 'test'");
  ASSERT_TRUE(backend_->Login(*s, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_EQ(backend_->SignInit(*s, Mechanism{CKM_ECDSA_SHA256, {}}, a.private_key).reason(),
            Reason::kMechanismInvalid);
}

}  // namespace
}  // namespace certvault