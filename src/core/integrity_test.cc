// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Offline edits of vault.db (issue 11 §1), made with the SQLite C API the way
// an attacker with a copy of the file would, each detected by the embedded
// backend (docs/formats/integrity.md): the edited object is refused with
// kCorruptStore (CKR_DEVICE_ERROR), the others keep working.
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/backend.h"
#include "src/core/integrity.h"
#include "src/crypto/aead.h"
#include "src/crypto/kdf.h"
#include "src/storage/record.h"

namespace certvault {
namespace {

constexpr char kSoPin[] = "so-pin-1234";
constexpr char kUserPin[] = "user-pin-1234";

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

// Row: the columns of one objects row.
struct Row {
  uint64_t object_class = 0;
  Bytes label, ckid, record;
  int64_t is_private = 0, version = 0;
};

class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-integrity-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    conf_ = dir_ + "/certvault.conf";
    std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
    backend_ = Open();
    InitToken();
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<Backend> Open() {
    BackendOptions options{dir_ + "/vault", conf_, true};
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::move(*b);
  }
  void InitToken() {
    auto slots = backend_->GetSlotList(true);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    slot_ = slots->back();
    ASSERT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "test").ok());
    auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(so.ok());
    ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
    ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
    ASSERT_TRUE(backend_->CloseSession(*so).ok());
    session_ = UserSession();
  }
  SessionHandle UserSession() {
    auto s = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    EXPECT_TRUE(s.ok());
    Status st = backend_->Login(*s, UserType::kUser, Pin(kUserPin));
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *s;
  }
  // Restart: a new process: a fresh backend, logged in again. Returns the
  // login status.
  Status Restart() {
    backend_.reset();
    backend_ = Open();
    auto s = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    if (!s.ok()) return s.status();
    session_ = *s;
    return backend_->Login(session_, UserType::kUser, Pin(kUserPin));
  }

  Backend::KeyPair GenerateEc(std::string_view label, std::initializer_list<uint8_t> id, Bytes allowed = {}) {
    static const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, true);
    pub.SetString(CKA_LABEL, label);
    pub.Set(CKA_ID, Bytes(id));
    priv.SetBool(CKA_TOKEN, true);
    priv.SetString(CKA_LABEL, label);
    priv.Set(CKA_ID, Bytes(id));
    if (!allowed.empty()) priv.Set(CKA_ALLOWED_MECHANISMS, allowed);
    auto kp = backend_->GenerateKeyPair(session_, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? *kp : Backend::KeyPair{};
  }
  ObjectHandle GenerateAes(std::string_view label, bool wrap) {
    AttributeSet tmpl;
    tmpl.SetBool(CKA_TOKEN, true);
    tmpl.SetUlong(CKA_VALUE_LEN, 32);
    tmpl.SetString(CKA_LABEL, label);
    if (wrap) tmpl.SetBool(CKA_WRAP, true);
    auto key = backend_->GenerateKey(session_, Mechanism{CKM_AES_KEY_GEN, {}}, tmpl);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : 0;
  }
  Status SignStatus(ObjectHandle key) {
    CV_RETURN_IF_ERROR(backend_->SignInit(session_, Mechanism{CKM_ECDSA, {}}, key));
    uint8_t digest[32] = {1};
    uint8_t sig[64];
    size_t len = sizeof sig;
    return backend_->Sign(session_, digest, OutBuf{sig, &len});
  }
  Status ReadStatus(ObjectHandle object, AttributeType type) {
    std::vector<AttributeRequest> req(1);
    req[0].type = type;
    return backend_->GetAttributeValue(session_, object, &req);
  }
  Result<std::vector<ObjectHandle>> FindByLabel(std::string_view label, ObjectClass cls) {
    AttributeSet tmpl;
    tmpl.SetString(CKA_LABEL, label);
    tmpl.SetUlong(CKA_CLASS, cls);
    CV_RETURN_IF_ERROR(backend_->FindObjectsInit(session_, tmpl));
    Result<std::vector<ObjectHandle>> found = backend_->FindObjects(session_, 16);
    CV_RETURN_IF_ERROR(backend_->FindObjectsFinal(session_));
    return found;
  }

  // --- the attacker's tools: raw SQL on the vault file ---
  void Sql(const std::string& sql, std::initializer_list<std::span<const uint8_t>> blobs = {}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int i = 1;
    for (std::span<const uint8_t> b : blobs) {
      static const uint8_t kEmpty = 0;  // a null pointer would bind NULL, not an empty blob
      sqlite3_bind_blob(stmt, i++, b.empty() ? &kEmpty : b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    }
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  int64_t SqlInt(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    int64_t out = -1;
    if (sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      out = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  int64_t StateSize() { return SqlInt("SELECT length(integrity) FROM tokens WHERE token_id = " + std::to_string(slot_)); }
  Row GetRow(ObjectHandle id) {
    Row row;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT class, label, ckid, record, is_private, version FROM objects "
                                 "WHERE object_id = ?1",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(id));
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      auto blob = [&](int col) {
        auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, col));
        return Bytes(p, p + sqlite3_column_bytes(stmt, col));
      };
      row = Row{static_cast<uint64_t>(sqlite3_column_int64(stmt, 0)), blob(1), blob(2), blob(3),
                sqlite3_column_int64(stmt, 4), sqlite3_column_int64(stmt, 5)};
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return row;
  }
  void PutRow(ObjectHandle id, const Row& row) {
    Sql("UPDATE objects SET class = " + std::to_string(row.object_class) + ", is_private = " +
            std::to_string(row.is_private) + ", version = " + std::to_string(row.version) +
            ", label = ?1, ckid = ?2, record = ?3 WHERE object_id = " + std::to_string(id),
        {row.label, row.ckid, row.record});
  }
  // EditRecord: sets attribute `type` of object `id` to `value` in its stored
  // record, keeping the record's MAC (the attacker does not have the key).
  void EditRecord(ObjectHandle id, AttributeType type, Bytes value) {
    Row row = GetRow(id);
    auto header = storage::ParseRecordHeader(row.record);
    auto entries = storage::DecodeRecord(row.record);
    ASSERT_TRUE(header.ok() && entries.ok());
    bool found = false;
    for (storage::RecordEntry& e : *entries) {
      if (e.type == type) {
        e.value.assign(value.begin(), value.end());
        found = true;
      }
    }
    ASSERT_TRUE(found);
    row.record = storage::EncodeRecord(header->mac, storage::EncodeRecordBody(*entries));
    PutRow(id, row);
  }

  // --- what a build before integrity and the PIN counter wrote ---
  // StripMacs: the objects' records as version-1 records (no MAC).
  void StripMacs(std::initializer_list<ObjectHandle> objects) {
    for (ObjectHandle h : objects) {
      Row row = GetRow(h);
      row.record = storage::EncodeRecordV1(*storage::DecodeRecord(row.record));
      PutRow(h, row);
    }
  }
  // MakeLegacyPinRecord: `role`'s PIN record re-sealed as KDF record version
  // 1 without a counter anchor (same PIN, same token key). Needs the PIN: an
  // attacker cannot do this to a version 2 record.
  void MakeLegacyPinRecord(storage::Role role, std::string_view pin) {
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    ASSERT_TRUE(store.ok());
    storage::AuthRow row = *(*store)->GetAuth(slot_, role);
    auto key = core::OpenTokenKey(row, Pin(pin));
    ASSERT_TRUE(key.ok());
    core::PinKdf kdf = *core::DecodeKdf(row.kdf);
    kdf.version = core::kKdfVersionLegacy;
    auto kek = crypto::DeriveArgon2id(Pin(pin), kdf.salt, kdf.params, core::kTokenKeySize);
    ASSERT_TRUE(kek.ok());
    std::string_view label = "certvault token key v1";
    Bytes aad(label.begin(), label.end());
    ByteWriter<Bytes> w(&aad);
    w.WriteU64(slot_);
    w.WriteU8(static_cast<uint8_t>(role));
    auto sealed = crypto::AeadSeal(*kek, aad, key->Bytes(SecretAccess::Get()));
    ASSERT_TRUE(sealed.ok());
    row.kdf = core::EncodeKdf(kdf);
    row.wrapped_key.assign(sealed->begin(), sealed->end());
    row.anchor.clear();
    ASSERT_TRUE((*store)->PutAuth(row).ok());
  }
  bool PinRecordCounted(storage::Role role) {
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    auto row = (*store)->GetAuth(slot_, role);
    return row.ok() && *core::HasCountedKdf(*row);
  }
  // MakeLegacyToken: the token as a build without integrity and without the
  // PIN counter left it: version-1 records, no state, version 1 PIN records.
  void MakeLegacyToken(std::initializer_list<ObjectHandle> objects) {
    StripMacs(objects);
    Sql("UPDATE tokens SET integrity = x''");
    MakeLegacyPinRecord(storage::Role::kSo, kSoPin);
    MakeLegacyPinRecord(storage::Role::kUser, kUserPin);
  }

  std::string dir_, conf_;
  std::unique_ptr<Backend> backend_;
  SlotId slot_ = 0;
  SessionHandle session_ = 0;
};

Bytes Ulongs(std::initializer_list<uint64_t> values) {
  Bytes out;
  for (uint64_t v : values) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
  }
  return out;
}

void ExpectRefused(const Status& st) {
  EXPECT_EQ(st.reason(), Reason::kCorruptStore) << st.ToString();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
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
  Backend::KeyPair c = GenerateEc("C", {0xc});
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
  Backend::KeyPair b = GenerateEc("b", {2});
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
  Backend::KeyPair a = GenerateEc("a", {1});
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

// The downgrade: an attacker empties the state of a token written by this
// build and strips the record MACs (here after making a key exportable), so
// that the token looks legacy. Its PIN records are version 2, which cannot be
// turned back without the PIN: the login is refused, nothing is re-MACed.
TEST_F(IntegrityTest, RemovedStateOfATokenOfThisBuildRefusesLogin) {
  ObjectHandle victim = GenerateAes("victim", false);
  EditRecord(victim, CKA_SENSITIVE, {0});
  EditRecord(victim, CKA_EXTRACTABLE, {1});
  StripMacs({victim});
  Sql("UPDATE tokens SET integrity = x''");
  Status st = Restart();
  ExpectRefused(st);  // CKR_DEVICE_ERROR in the module (src/pkcs11/ckrv.cc)
  EXPECT_NE(st.message().find("state was removed"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("backup"), std::string::npos) << st.ToString();
  ExpectRefused(backend_->Login(session_, UserType::kSo, Pin(kSoPin)));
  EXPECT_EQ(StateSize(), 0);
  EXPECT_EQ(GetRow(victim).version, 1);  // not re-MACed
  // The named fix: re-initializing the token (needs only the SO PIN).
  ASSERT_TRUE(backend_->CloseAllSessions(slot_).ok());
  ASSERT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "test").ok());
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
  ASSERT_TRUE(Restart().ok());
}

// A legacy token is trusted once; its re-sealed PIN record then anchors the
// state, for both roles: the SO's record is still version 1, but the user's
// is version 2 now.
TEST_F(IntegrityTest, LegacyTokenIsUpgradedOnceThenARemovedStateRefusesLogin) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_FALSE(PinRecordCounted(storage::Role::kSo));
  EXPECT_GT(StateSize(), 0);
  StripMacs({a.private_key, a.public_key});
  Sql("UPDATE tokens SET integrity = x''");
  ExpectRefused(Restart());
  ExpectRefused(backend_->Login(session_, UserType::kSo, Pin(kSoPin)));
  EXPECT_EQ(StateSize(), 0);
}

// The same when the SO logged in first: the user's record is still version
// 1, the SO's anchors the state; deleting the SO's record does not help.
TEST_F(IntegrityTest, UpgradeByTheSoAnchorsTheStateForTheUser) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  backend_.reset();
  backend_ = Open();
  auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  ASSERT_TRUE(so.ok());
  ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kSo));
  EXPECT_FALSE(PinRecordCounted(storage::Role::kUser));
  EXPECT_GT(StateSize(), 0);
  StripMacs({a.private_key, a.public_key});
  Sql("UPDATE tokens SET integrity = x''");
  ExpectRefused(Restart());
  Sql("DELETE FROM auth WHERE token_id = " + std::to_string(slot_) + " AND role = 0");
  ExpectRefused(Restart());
  EXPECT_EQ(StateSize(), 0);
}

// The upgrade and the re-seal of the PIN record are one transaction: when
// either write fails (as a crash would end it), the other is rolled back too,
// so the token is still a legacy token (state empty, record version 1), and
// the next login upgrades it. A version 2 record beside an empty state would
// be refused as a downgrade from then on.
TEST_F(IntegrityTest, InterruptedUpgradeLeavesALegacyToken) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyToken({a.private_key, a.public_key});
  for (const char* write : {"UPDATE ON tokens", "INSERT ON auth"}) {
    SCOPED_TRACE(write);
    backend_.reset();
    Sql(std::string("CREATE TRIGGER crash BEFORE ") + write + " BEGIN SELECT RAISE(ABORT, 'crash'); END");
    EXPECT_FALSE(Restart().ok());
    backend_.reset();
    Sql("DROP TRIGGER crash");
    EXPECT_EQ(StateSize(), 0);
    EXPECT_FALSE(PinRecordCounted(storage::Role::kUser));
    EXPECT_EQ(GetRow(a.private_key).version, 1);
  }
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_GT(StateSize(), 0);
  EXPECT_TRUE(SignStatus(a.private_key).ok());
}

// The other order, state written but PIN record still version 1 (a token
// whose other role upgraded it, or one upgraded by an earlier build of this
// scheme), is an upgraded token: the login verifies the state and re-seals.
TEST_F(IntegrityTest, StateWithAVersionOnePinRecordLogsIn) {
  Backend::KeyPair a = GenerateEc("a", {1});
  MakeLegacyPinRecord(storage::Role::kUser, kUserPin);
  MakeLegacyPinRecord(storage::Role::kSo, kSoPin);
  ASSERT_TRUE(Restart().ok());
  EXPECT_TRUE(PinRecordCounted(storage::Role::kUser));
  EXPECT_EQ(GetRow(a.private_key).version, 1);  // verified, not upgraded again
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
