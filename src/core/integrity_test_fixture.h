// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// IntegrityTest: a token of the embedded backend in a temporary vault, and
// the attacker's tools: raw SQL on vault.db with the SQLite C API, as with a
// copy of the file (integrity_test.cc, integrity_downgrade_test.cc;
// docs/formats/integrity.md).
#ifndef CERTVAULT_CORE_INTEGRITY_TEST_FIXTURE_H_
#define CERTVAULT_CORE_INTEGRITY_TEST_FIXTURE_H_

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/auth.h"
#include "src/core/backend.h"
#include "src/core/integrity.h"
#include "src/core/testing/token_test.h"
#include "src/crypto/aead.h"
#include "src/crypto/kdf.h"
#include "src/storage/record.h"

namespace certvault {

using testing::kSoPin;
using testing::kUserPin;
using testing::Pin;

// Row: the columns of one objects row.
struct Row {
  uint64_t object_class = 0;
  Bytes label, ckid, record;
  int64_t is_private = 0, version = 0;
};

// IntegrityTest: TokenTest (the vault and its token) with a user session.
class IntegrityTest : public testing::TokenTest {
 protected:
  void SetUp() override {
    TokenTest::SetUp();
    if (HasFatalFailure()) return;
    session_ = UserSession();
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

  SessionHandle session_ = 0;
};

// ExpectRefused: the integrity failure (kCorruptStore; CKR_DEVICE_ERROR in the
// module, src/pkcs11/ckrv.cc).
inline void ExpectRefused(const Status& st) {
  EXPECT_EQ(st.reason(), Reason::kCorruptStore) << st.ToString();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
}

}  // namespace certvault

#endif  // CERTVAULT_CORE_INTEGRITY_TEST_FIXTURE_H_
