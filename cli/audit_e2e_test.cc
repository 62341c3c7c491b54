// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// `certvault audit` end to end over the embedded backend: the listing, the
// verification report, its JSON, and the exit code of a broken log.
#include <sqlite3.h>

#include <string>

#include "cli/cli_e2e_fixture.h"

namespace certvault::cli {
namespace {

class AuditCliTest : public CliE2eFixture {
 protected:
  void SetUp() override {
    CliE2eFixture::SetUp();
    Init();
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
};

TEST_F(AuditCliTest, ListsAndVerifies) {
  ASSERT_EQ(Cli({"keygen", "--label", "k", "--type", "ec:p256", "--pin", "user-pin-1234"}).code, 0);
  ASSERT_EQ(Cli({"list", "--pin", "wrong-pin-000"}).code, kExitAuth);
  CliRun list = Cli({"audit", "--token", "t"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("init_token  ok  so (embedded"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("generate_key_pair  ok  user"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("login  pin_incorrect  public"), std::string::npos) << list.out;
  CliRun verify = Cli({"audit", "--verify"});
  ASSERT_EQ(verify.code, 0) << verify.err;
  EXPECT_NE(verify.out.find("verified: the log is intact"), std::string::npos) << verify.out;
  EXPECT_NE(verify.out.find("are not yet signed"), std::string::npos) << verify.out;  // the failed login
  CliRun json = Cli({"audit", "--verify", "--json"});
  EXPECT_NE(json.out.find("\"ok\":true"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"unsigned_records\":1"), std::string::npos) << json.out;
  CliRun events = Cli({"audit", "--json"});
  EXPECT_NE(events.out.find("\"action\":\"generate_key_pair\""), std::string::npos) << events.out;
}

TEST_F(AuditCliTest, BrokenLogIsAVaultError) {
  Sql("UPDATE event_log SET result = 'ok' WHERE seq = 2");  // (already ok: a no-op edit)
  EXPECT_EQ(Cli({"audit", "--verify"}).code, 0);
  Sql("UPDATE event_log SET detail = 'as user' WHERE seq = 2");
  CliRun r = Cli({"audit", "--verify"});
  EXPECT_EQ(r.code, kExitVault);
  EXPECT_NE(r.out.find("BROKEN at record 2"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("does not match its hash (edited)"), std::string::npos) << r.err;
  EXPECT_EQ(Cli({"audit", "--token", "nope"}).code, kExitNotFound);
  EXPECT_EQ(Cli({"audit", "--checkpoint", "x"}).code, kExitUsage);
}

TEST_F(AuditCliTest, PinnedKeyAndExpectedCheckpoint) {
  CliRun v = Cli({"audit", "--verify", "--json"});
  const size_t at = v.out.find("\"audit_keys\":[\"");
  ASSERT_NE(at, std::string::npos) << v.out;
  const std::string fpr = v.out.substr(at + 15, 64);
  EXPECT_EQ(Cli({"audit", "--verify", "--key-fingerprint", fpr}).code, 0);
  EXPECT_EQ(Cli({"audit", "--verify", "--key-fingerprint", std::string(64, 'a')}).code, kExitVault);
  const size_t head = v.out.find("\"last_signed_head\":\"");
  const std::string cp = "3:" + v.out.substr(head + 20, 64);
  EXPECT_EQ(Cli({"audit", "--verify", "--checkpoint", cp}).code, 0);
  Sql("DELETE FROM event_checkpoints WHERE seq = 3; DELETE FROM event_log WHERE seq = 3");
  EXPECT_EQ(Cli({"audit", "--verify"}).code, 0);  // a signed tail cut with its checkpoint...
  EXPECT_EQ(Cli({"audit", "--verify", "--checkpoint", cp}).code, kExitVault);  // ...but not past a copy
}

}  // namespace
}  // namespace certvault::cli
