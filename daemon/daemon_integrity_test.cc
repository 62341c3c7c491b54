// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Offline edits of vault.db (issue 11 §1, docs/formats/integrity.md) seen
// through certvaultd: the daemon refuses the edited object with the same
// reason as embedded mode (kCorruptStore, CKR_DEVICE_ERROR in the module),
// and its other objects keep working.
#include <sqlite3.h>

#include <set>
#include <string>

#include "daemon/daemon_test_fixture.h"
#include "src/core/integrity.h"
#include "src/storage/record.h"

namespace certvault::daemon {
namespace {

Bytes Ulongs(std::initializer_list<uint64_t> values) {
  Bytes out;
  for (uint64_t v : values) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out.insert(out.end(), p, p + sizeof v);
  }
  return out;
}

class DaemonIntegrityTest : public DaemonTest {
 protected:
  void Sql(const std::string& sql, std::span<const uint8_t> blob = {}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    if (!blob.empty()) sqlite3_bind_blob(stmt, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  Bytes Record(ObjectHandle id) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string sql = "SELECT record FROM objects WHERE object_id = " + std::to_string(id);
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    Bytes out;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 0));
      out.assign(p, p + sqlite3_column_bytes(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
  // SetAttr: attribute `type` of `id` set to `value` in its stored record,
  // the MAC kept as it was.
  void SetAttr(ObjectHandle id, AttributeType type, Bytes value) {
    Bytes record = Record(id);
    auto header = storage::ParseRecordHeader(record);
    auto entries = storage::DecodeRecord(record);
    ASSERT_TRUE(header.ok() && entries.ok());
    for (storage::RecordEntry& e : *entries) {
      if (e.type == type) e.value.assign(value.begin(), value.end());
    }
    Bytes edited = storage::EncodeRecord(header->mac, storage::EncodeRecordBody(*entries));
    Sql("UPDATE objects SET record = ?1 WHERE object_id = " + std::to_string(id), edited);
  }
  // FlipToExportable: CKA_SENSITIVE=FALSE, CKA_EXTRACTABLE=TRUE in the stored
  // record, the MAC kept as it was.
  void FlipToExportable(ObjectHandle id) {
    Bytes record = Record(id);
    auto header = storage::ParseRecordHeader(record);
    auto entries = storage::DecodeRecord(record);
    ASSERT_TRUE(header.ok() && entries.ok());
    for (storage::RecordEntry& e : *entries) {
      if (e.type == CKA_SENSITIVE) e.value = {0};
      if (e.type == CKA_EXTRACTABLE) e.value = {1};
    }
    Bytes edited = storage::EncodeRecord(header->mac, storage::EncodeRecordBody(*entries));
    Sql("UPDATE objects SET record = ?1 WHERE object_id = " + std::to_string(id), edited);
  }
  // Keys: EC key pairs, each private key in its own object-set group.
  // With `allowed`, the private keys get that CKA_ALLOWED_MECHANISMS.
  std::vector<Backend::KeyPair> Keys(Backend* b, SessionHandle s, size_t n, Bytes allowed = {}) {
    std::vector<Backend::KeyPair> out;
    std::set<size_t> groups;
    while (out.size() < n) {
      AttributeSet pub, priv;
      pub.Set(CKA_EC_PARAMS, kP256);
      pub.SetBool(CKA_TOKEN, true);
      priv.SetBool(CKA_TOKEN, true);
      if (!allowed.empty()) priv.Set(CKA_ALLOWED_MECHANISMS, allowed);
      auto kp = b->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
      EXPECT_TRUE(kp.ok());
      if (!kp.ok()) return out;
      size_t g1 = core::BucketOf(kp->private_key), g2 = core::BucketOf(kp->public_key);
      if (g1 == g2 || groups.count(g1) || groups.count(g2)) continue;
      groups.insert({g1, g2});
      out.push_back(*kp);
    }
    return out;
  }
  // Relogin: a new daemon (a restart after the offline edit) and client.
  Status Relogin(std::unique_ptr<Backend>* b, SlotId slot, SessionHandle* s) {
    StartServer();
    *b = Client();
    auto opened = (*b)->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    if (!opened.ok()) return opened.status();
    *s = *opened;
    return (*b)->Login(*s, UserType::kUser, Pin(kUserPin));
  }
};

TEST_F(DaemonIntegrityTest, EditedDeletedAndTokenRowsAreRefused) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  std::vector<Backend::KeyPair> keys = Keys(b.get(), s, 3);
  ASSERT_EQ(keys.size(), 3u);
  b.reset();
  StopServer();

  FlipToExportable(keys[0].private_key);
  Sql("DELETE FROM objects WHERE object_id = " + std::to_string(keys[1].public_key));
  ASSERT_TRUE(Relogin(&b, slot, &s).ok());
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_VALUE;
  Status read = b->GetAttributeValue(s, keys[0].private_key, &req);
  EXPECT_EQ(read.reason(), Reason::kCorruptStore) << read.ToString();
  EXPECT_EQ(SignOnce(b.get(), s, keys[0].private_key).reason(), Reason::kCorruptStore);
  // The deleted public key's group is refused; the private key is in another.
  req[0].type = CKA_LABEL;
  EXPECT_TRUE(b->GetAttributeValue(s, keys[1].private_key, &req).ok());
  EXPECT_TRUE(SignOnce(b.get(), s, keys[2].private_key).ok());
  b.reset();
  StopServer();

  Sql("UPDATE tokens SET capacity = 1");
  Status login = Relogin(&b, slot, &s);
  EXPECT_EQ(login.reason(), Reason::kCorruptStore) << login.ToString();
}

TEST_F(DaemonIntegrityTest, WidenedMechanismsSwappedLabelsAndOlderRowsAreRefused) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  std::vector<Backend::KeyPair> keys = Keys(b.get(), s, 4, Ulongs({CKM_ECDSA}));
  ASSERT_EQ(keys.size(), 4u);
  // keys[3]: its owner turns signing off; the attacker keeps the older row.
  Bytes older = Record(keys[3].private_key);
  AttributeSet off;
  off.SetBool(CKA_SIGN, false);
  ASSERT_TRUE(b->SetAttributeValue(s, keys[3].private_key, off).ok());
  b.reset();
  StopServer();

  SetAttr(keys[0].private_key, CKA_ALLOWED_MECHANISMS, Ulongs({CKM_ECDSA, CKM_ECDSA_SHA256}));
  Sql("UPDATE objects SET label = CAST('other' AS BLOB) WHERE object_id = " + std::to_string(keys[1].private_key));
  Sql("UPDATE objects SET version = 1, record = ?1 WHERE object_id = " + std::to_string(keys[3].private_key), older);
  ASSERT_TRUE(Relogin(&b, slot, &s).ok());
  EXPECT_EQ(SignOnce(b.get(), s, keys[0].private_key).reason(), Reason::kCorruptStore);
  EXPECT_EQ(SignOnce(b.get(), s, keys[1].private_key).reason(), Reason::kCorruptStore);
  EXPECT_EQ(SignOnce(b.get(), s, keys[3].private_key).reason(), Reason::kCorruptStore);
  EXPECT_TRUE(SignOnce(b.get(), s, keys[2].private_key).ok());
}

// The downgrade (docs/formats/integrity.md, "Existing vaults"): the state of
// a token of this build emptied and its MACs stripped, after making a key
// exportable. The token's PIN records are version 2: certvaultd refuses the
// login as embedded mode does, instead of trusting the file again.
TEST_F(DaemonIntegrityTest, RemovedStateRefusesLogin) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  std::vector<Backend::KeyPair> keys = Keys(b.get(), s, 1);
  ASSERT_EQ(keys.size(), 1u);
  b.reset();
  StopServer();

  FlipToExportable(keys[0].private_key);
  for (ObjectHandle h : {keys[0].private_key, keys[0].public_key}) {
    Bytes legacy = storage::EncodeRecordV1(*storage::DecodeRecord(Record(h)));
    Sql("UPDATE objects SET record = ?1 WHERE object_id = " + std::to_string(h), legacy);
  }
  Sql("UPDATE tokens SET integrity = x''");
  Status login = Relogin(&b, slot, &s);
  EXPECT_EQ(login.reason(), Reason::kCorruptStore) << login.ToString();
  EXPECT_NE(login.message().find("backup"), std::string::npos) << login.ToString();
}

}  // namespace
}  // namespace certvault::daemon
