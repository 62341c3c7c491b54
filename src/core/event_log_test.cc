// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The vault's event log as the embedded backend writes it
// (docs/formats/event-log.md): which calls are recorded, by whom, with which
// result, and that the log verifies with signed checkpoints.
#include <sqlite3.h>
#include <unistd.h>

#include "src/audit/verify.h"
#include "src/core/testing/token_test.h"
#include "src/model/vendor_attributes.h"
#include "src/storage/store.h"

namespace certvault::testing {
namespace {

const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

class EventLogTest : public TokenTest {
 protected:
  std::string ExtraConfig() const override { return "pin_max_tries = 3\n"; }
  std::string DbPath() const { return dir_ + "/vault/vault.db"; }
  // OpenLogOff: another backend on the vault, with the event log off.
  std::unique_ptr<Backend> OpenLogOff() {
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = conf_;
    options.event_log = false;
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }
  std::unique_ptr<storage::Store> OpenDb() {
    auto store = storage::OpenStore(DbPath(), storage::StoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::vector<storage::EventRow> Events() {
    std::vector<storage::EventRow> out;
    std::unique_ptr<storage::Store> store = OpenDb();
    EXPECT_TRUE(store
                    ->ForEachEvent(slot_,
                                   [&](const storage::EventRow& e) {
                                     out.push_back(e);
                                     return OkStatus();
                                   })
                    .ok());
    return out;
  }
  audit::VerifyReport Verify() {
    std::unique_ptr<storage::Store> store = OpenDb();
    Result<audit::VerifyReport> r = audit::VerifyLog(*store, slot_, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : audit::VerifyReport{};
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  Backend::KeyPair GenerateEc(SessionHandle s, const std::string& label, bool token) {
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, token);
    priv.SetBool(CKA_TOKEN, token);
    priv.SetString(CKA_LABEL, label);
    auto kp = backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? *kp : Backend::KeyPair{};
  }
};

TEST_F(EventLogTest, TokenSetUpIsRecordedAndSigned) {
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].action, "init_token");
  EXPECT_EQ(events[0].role, "so");
  EXPECT_EQ(events[0].target_label, "test");
  EXPECT_EQ(events[1].action, "login");
  EXPECT_EQ(events[1].detail, "as so");
  EXPECT_EQ(events[2].action, "init_pin");
  for (const auto& e : events) {
    EXPECT_EQ(e.result, "ok");
    EXPECT_EQ(e.mode, "embedded");
    EXPECT_EQ(e.peer_uid, static_cast<int64_t>(getuid()));
    EXPECT_EQ(e.peer_pid, static_cast<int64_t>(getpid()));
    EXPECT_NE(e.peer_exe.find("core_event_log_test"), std::string::npos) << e.peer_exe;
  }
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.last_signed_seq, 3u);  // every event written while logged in is signed
  EXPECT_EQ(r.key_fingerprints.size(), 1u);
}

TEST_F(EventLogTest, FailedLoginsAndLockoutWaitForTheNextCheckpoint) {
  SessionHandle s = RwSession();
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin-1")).reason(), Reason::kPinIncorrect);
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin-2")).reason(), Reason::kPinIncorrect);
  EXPECT_EQ(backend_->Login(s, UserType::kUser, Pin("wrong-pin-3")).reason(), Reason::kPinLocked);
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[3].action, "login");
  EXPECT_EQ(events[3].result, "pin_incorrect");
  EXPECT_EQ(events[3].role, "public");
  EXPECT_EQ(events[5].action, "lockout");  // written by the PIN check that locked it
  EXPECT_EQ(events[6].result, "pin_locked");
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.last_signed_seq, 3u);  // nobody logged in: not yet signed
  ASSERT_TRUE(backend_->Login(s, UserType::kSo, Pin(kSoPin)).ok());
  r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.last_signed_seq, 8u);  // the SO's login signs them all
}

TEST_F(EventLogTest, KeyChangesAreRecordedWithTheirTargets) {
  SessionHandle s = UserSession();
  Backend::KeyPair kp = GenerateEc(s, "signer", /*token=*/true);
  GenerateEc(s, "ephemeral", /*token=*/false);  // session objects are not logged
  AttributeSet secret;
  secret.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  secret.SetUlong(CKA_KEY_TYPE, CKK_AES);
  secret.SetBool(CKA_TOKEN, true);
  secret.SetString(CKA_LABEL, "imported");
  secret.Set(CKA_VALUE, Bytes(32, 7));
  Result<ObjectHandle> imported = backend_->CreateObject(s, secret);
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  AttributeSet rename;
  rename.SetString(CKA_LABEL, "renamed");
  ASSERT_TRUE(backend_->SetAttributeValue(s, kp.private_key, rename).ok());
  ASSERT_TRUE(backend_->DestroyObject(s, *imported).ok());
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[3].action, "login");
  EXPECT_EQ(events[4].action, "generate_key_pair");
  EXPECT_EQ(events[4].target_id, kp.private_key);
  EXPECT_EQ(events[4].target_label, "signer");
  EXPECT_EQ(events[4].role, "user");
  EXPECT_EQ(events[5].action, "import_key");
  EXPECT_EQ(events[5].target_label, "imported");
  EXPECT_EQ(events[6].action, "set_attribute");
  EXPECT_EQ(events[6].target_label, "signer");  // as it was before the change
  EXPECT_EQ(events[6].detail, "attributes 0x3");
  EXPECT_EQ(events[7].action, "destroy_object");
  EXPECT_EQ(events[7].target_id, *imported);
  // A refused change is recorded with its result.
  AttributeSet bad;
  bad.SetBool(CKA_SENSITIVE, false);  // cannot be cleared once set
  EXPECT_FALSE(backend_->SetAttributeValue(s, kp.private_key, bad).ok());
  EXPECT_NE(Events().back().result, "ok");
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.last_signed_seq, r.records);
}

// A key state transition (a C_SetAttributeValue of CKA_CV_KEY_STATE) is
// recorded as such, in the key's own transaction.
TEST_F(EventLogTest, KeyStateTransitionsAreRecordedAsSuch) {
  SessionHandle s = UserSession();
  Backend::KeyPair kp = GenerateEc(s, "signer", /*token=*/true);
  const size_t before = Events().size();
  AttributeSet change;
  change.SetUlong(kCkaCvKeyState, kCvStateCompromised);
  change.SetString(kCkaCvKeyStateReason, "laptop stolen");
  ASSERT_TRUE(backend_->SetAttributeValue(s, kp.private_key, change).ok());
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), before + 1);
  EXPECT_EQ(events.back().action, "key_state");
  EXPECT_EQ(events.back().target_id, kp.private_key);
  EXPECT_EQ(events.back().detail, "active -> compromised reason: laptop stolen");
  // A refused transition is recorded with its result.
  change = AttributeSet();
  change.SetUlong(kCkaCvKeyState, kCvStateActive);
  EXPECT_FALSE(backend_->SetAttributeValue(s, kp.private_key, change).ok());
  EXPECT_NE(Events().back().result, "ok");
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
}

TEST_F(EventLogTest, AKeyAndItsEventCommitTogether) {
  SessionHandle s = UserSession();
  const size_t before = Events().size();
  GenerateEc(s, "one", true);
  EXPECT_EQ(Events().size(), before + 1);  // one event, in the key pair's own transaction
  // If the event cannot be written, the key is not stored either.
  Sql("CREATE TRIGGER no_keygen BEFORE INSERT ON event_log WHEN NEW.action = 'generate_key_pair' "
      "BEGIN SELECT RAISE(ABORT, 'refused'); END;");
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetString(CKA_LABEL, "two");
  EXPECT_FALSE(backend_->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).ok());
  AttributeSet find;
  find.SetString(CKA_LABEL, "two");
  ASSERT_TRUE(backend_->FindObjectsInit(s, find).ok());
  EXPECT_TRUE(backend_->FindObjects(s, 10)->empty());
  ASSERT_TRUE(backend_->FindObjectsFinal(s).ok());
  Sql("DROP TRIGGER no_keygen");
  EXPECT_TRUE(Verify().ok);
}

TEST_F(EventLogTest, SigningWritesNoEvent) {
  SessionHandle s = UserSession();
  Backend::KeyPair kp = GenerateEc(s, "signer", true);
  const size_t before = Events().size();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(backend_->SignInit(s, Mechanism{CKM_ECDSA, {}}, kp.private_key).ok());
    uint8_t digest[32] = {1};
    uint8_t sig[64];
    size_t len = sizeof sig;
    ASSERT_TRUE(backend_->Sign(s, digest, OutBuf{sig, &len}).ok());
  }
  EXPECT_EQ(Events().size(), before);
}

TEST_F(EventLogTest, UnwrapIsRecorded) {
  SessionHandle s = UserSession();
  AttributeSet kek;
  kek.SetBool(CKA_TOKEN, true);
  kek.SetUlong(CKA_VALUE_LEN, 32);
  kek.SetBool(CKA_WRAP, true);
  kek.SetBool(CKA_UNWRAP, true);
  Result<ObjectHandle> k = backend_->GenerateKey(s, Mechanism{CKM_AES_KEY_GEN, {}}, kek);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  std::vector<uint8_t> wrapped(40, 0x5a);  // not a valid wrap: the refusal is recorded
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_SECRET_KEY);
  tmpl.SetUlong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  tmpl.SetBool(CKA_TOKEN, true);
  tmpl.SetString(CKA_LABEL, "unwrapped");
  EXPECT_FALSE(backend_->UnwrapKey(s, Mechanism{CKM_AES_KEY_WRAP_PAD, {}}, *k, wrapped, tmpl).ok());
  std::vector<storage::EventRow> events = Events();
  EXPECT_EQ(events[events.size() - 2].action, "generate_key");
  EXPECT_EQ(events.back().action, "unwrap_key");
  EXPECT_EQ(events.back().target_label, "unwrapped");
  EXPECT_NE(events.back().result, "ok");
  EXPECT_NE(events.back().detail.find("unwrapping key " + std::to_string(*k)), std::string::npos);
}

TEST_F(EventLogTest, ReinitRollsTheAuditKeyOver) {
  ASSERT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "again").ok());
  EXPECT_EQ(backend_->InitToken(slot_, Pin("wrong-so-pin"), "again").reason(), Reason::kPinIncorrect);
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), 6u);  // the first token's log goes on
  EXPECT_EQ(events[3].action, "audit_key_rollover");
  EXPECT_EQ(events[4].action, "init_token");
  EXPECT_EQ(events[5].action, "init_token");
  EXPECT_EQ(events[5].result, "pin_incorrect");
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.key_fingerprints.size(), 2u);
  EXPECT_EQ(r.last_signed_seq, 5u);
}

TEST_F(EventLogTest, VaultFromBeforeTheLogIsUpgraded) {
  // A token made by a build without the log (the log off: no audit key, no
  // kTokenFlagEventLog), in a file made schema version 2 again; a build with
  // the log opens it: the migration adds the tables, and the token gets its
  // audit key 1 at its next login.
  backend_.reset();
  backend_ = OpenLogOff();
  InitToken();
  backend_.reset();
  Sql("DROP TABLE audit_keys; DROP TABLE event_checkpoints; DROP TABLE event_log; "
      "UPDATE meta SET value = 2 WHERE key = 'schema_version';");
  backend_ = Open();
  ASSERT_NE(backend_, nullptr);
  UserSession();
  audit::VerifyReport r = Verify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 1u);
  EXPECT_EQ(r.last_signed_seq, 1u);
  EXPECT_EQ(r.key_fingerprints.size(), 1u);
}

TEST_F(EventLogTest, RemovedLogIsNotRestartedSilently) {
  // The whole log of a token made with the log is deleted: its verified
  // token row says it had an audit key, so no new key 1 is trusted.
  Sql("DELETE FROM audit_keys; DELETE FROM event_checkpoints; DELETE FROM event_log;");
  UserSession();
  std::vector<storage::EventRow> events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].action, "audit_key_check");
  EXPECT_EQ(events[0].result, "DATA_LOSS");
  EXPECT_NE(events[0].detail.find("were removed"), std::string::npos) << events[0].detail;
  EXPECT_TRUE(OpenDb()->ListAuditKeys(slot_)->empty());
  EXPECT_EQ(Verify().last_signed_seq, 0u);
}

TEST_F(EventLogTest, ReplacedAuditKeyIsNotUsedAndIsRecorded) {
  // The attacker puts their own key (public and "sealed" parts) in the file.
  Sql("UPDATE audit_keys SET sealed_private = x'00112233445566778899aabbccddeeff00112233445566778899'");
  UserSession();  // the login itself still works
  std::vector<storage::EventRow> events = Events();
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events[3].action, "audit_key_check");
  EXPECT_EQ(events[3].result, "DATA_LOSS");
  audit::VerifyReport r = Verify();
  EXPECT_EQ(r.last_signed_seq, 3u);  // nothing signed since
}

class EventLogOffTest : public TokenTest {
 protected:
  void SetUp() override {}  // the backend is opened below with the log off
};

TEST_F(EventLogOffTest, DisabledWritesNothing) {
  char tmpl[] = "/tmp/cv-core-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  dir_ = tmpl;
  conf_ = dir_ + "/certvault.conf";
  std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
  BackendOptions options;
  options.vault_dir = dir_ + "/vault";
  options.config_path = conf_;
  options.create_vault = true;
  options.event_log = false;
  auto b = OpenEmbeddedBackend(options);
  ASSERT_TRUE(b.ok());
  backend_ = std::move(*b);
  InitToken();
  auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->LastEvent(slot_).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace certvault::testing
