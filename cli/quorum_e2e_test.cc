// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The quorum verbs end to end (docs/design/quorum.md): quorum init, request,
// approve, backup, restore and zeroize, over real vaults and custodian
// tokens in temporary directories (low Argon2id cost).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>

#include <fstream>
#include <iterator>
#include <thread>

#include "cli/quorum_e2e_fixture.h"
#include "src/base/byte_reader.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"
#include "src/crypto/random.h"
#include "src/quorum/backup.h"
#include "src/quorum/quorum.h"
#include "src/quorum/x25519_seal.h"
#include "src/storage/store.h"

namespace certvault::cli {
namespace {


TEST_F(QuorumE2eTest, AnyTwoOfThreeApproveABackupOneNeverDoes) {
  QuorumInit({"cA", "cB", "cC"});
  const std::string archive = dir_ + "/t.cvbk";
  EXPECT_NE(So({"backup", "--token", "t", "--out", archive}).code, 0);  // no approval at all
  std::string id = Request("backup");
  ASSERT_EQ(id.size(), 32u);
  CliRun one = Approve(id, "cA");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find("1 of 2"), std::string::npos);
  CliRun refused = So({"backup", "--token", "t", "--out", archive, "--op", id});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("1 of 2 approvals"), std::string::npos) << refused.err;
  ASSERT_EQ(Approve(id, "cC").code, 0);
  CliRun status = Cli({"quorum", "status", "--token", "t"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("2-of-3 quorum"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("operation " + id + "\n    approved by custodian 1\n    approved by custodian 3"),
            std::string::npos) << status.out;
  CliRun ok = So({"backup", "--token", "t", "--out", archive, "--op", id});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(So({"backup", "--token", "t", "--out", archive, "--op", id}).code, 0);  // one operation per approval
  EXPECT_NE(Approve(id, "cB").code, 0);                                             // done: no more approvals
  std::string other = Request("zeroize");
  ASSERT_EQ(Approve(other, "cA").code, 0);
  ASSERT_EQ(Approve(other, "cB").code, 0);
  EXPECT_NE(So({"backup", "--token", "t", "--out", archive, "--op", other}).code, 0);  // approved for another op
  std::vector<std::string> log = Actions();
  for (const char* a : {"quorum_init:ok", "quorum_request:ok", "quorum_approve:ok", "quorum_refuse:PERMISSION_DENIED",
                        "quorum_complete:ok", "backup:ok"}) {
    EXPECT_TRUE(Contains(log, a)) << a;
  }
  CliRun verify = Cli({"audit", "--verify"});
  EXPECT_EQ(verify.code, 0) << verify.err;
}

// Someone who can write vault.db but is no custodian adds an approval of
// their own (the operation's public key is in the file): k-1 genuine
// approvals plus a forged one rebuild a wrong secret and are refused.
TEST_F(QuorumE2eTest, AForgedApprovalInTheFileDoesNotCount) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Request("backup");
  ASSERT_EQ(Approve(id, "cA").code, 0);
  {
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    ASSERT_TRUE(store.ok());
    auto op = (*store)->GetMetaRow("quorum/1/op/" + id);
    ASSERT_TRUE(op.ok());
    const size_t name_len = 6;  // "backup"
    const size_t pub_at = 1 + 16 + 4 + name_len + 8 + 8 + 16 + 4;
    Bytes pub(op->begin() + pub_at, op->begin() + pub_at + 32);
    Bytes qid(op->begin() + pub_at - 20, op->begin() + pub_at - 4);
    Bytes op_id(op->begin() + 1, op->begin() + 17);
    Bytes aad;
    ByteWriter<Bytes> w(&aad);
    const std::string label = "certvault quorum approval v1";
    w.WriteU32LengthPrefixed({reinterpret_cast<const uint8_t*>(label.data()), label.size()});
    w.WriteU64(1);
    w.WriteU32LengthPrefixed(op_id);
    w.WriteBytes(qid);
    w.WriteU32(1);
    w.WriteU8(2);
    Bytes fake_share(32, 0x5a);
    auto sealed = quorum::SealToKey(pub, label, aad, fake_share);
    ASSERT_TRUE(sealed.ok());
    Bytes row(1 + sealed->size(), 2);  // x = 2 || sealed
    std::copy(sealed->begin(), sealed->end(), row.begin() + 1);
    ASSERT_TRUE((*store)->PutMetaRow("quorum/1/op/" + id + "/approval/2", row).ok());
  }
  CliRun r = So({"backup", "--token", "t", "--out", dir_ + "/t.cvbk", "--op", id});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("do not rebuild the quorum secret"), std::string::npos) << r.err;
}

TEST_F(QuorumE2eTest, ForeignAndOldSharesAreRefused) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Request("backup");
  CliRun foreign = Approve(id, "cD");
  EXPECT_NE(foreign.code, 0);
  EXPECT_NE(foreign.err.find("not a custodian of this quorum"), std::string::npos) << foreign.err;
  // Re-share to A, B, D: C keeps an epoch 1 share, which is refused.
  std::string reshare = Request("reshare");
  ASSERT_EQ(Approve(reshare, "cB").code, 0);
  ASSERT_EQ(Approve(reshare, "cC").code, 0);
  QuorumInit({"cA", "cB", "cD"}, reshare);
  std::string next = Request("backup");
  CliRun old = Approve(next, "cC");
  EXPECT_NE(old.code, 0);
  EXPECT_NE(old.err.find("epoch 1"), std::string::npos) << old.err;
  EXPECT_NE(Approve(id, "cA").code, 0);  // requested before the re-share: cA's share is now epoch 2
  ASSERT_EQ(Approve(next, "cD").code, 0);
  ASSERT_EQ(Approve(next, "cA").code, 0);
  EXPECT_EQ(So({"backup", "--token", "t", "--out", dir_ + "/t.cvbk", "--op", next}).code, 0);
  EXPECT_TRUE(Contains(Actions(), "quorum_reshare:ok"));
}

TEST_F(QuorumE2eTest, RestoreNeedsTwoCustodiansAndRefusesBadArchives) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Request("backup");
  ASSERT_EQ(Approve(id, "cA").code, 0);
  ASSERT_EQ(Approve(id, "cB").code, 0);
  const std::string archive = dir_ + "/t.cvbk";
  ASSERT_EQ(So({"backup", "--token", "t", "--out", archive, "--op", id}).code, 0);
  EXPECT_NE(At("new", WithCustodians({"restore", archive}, {"cC"})).code, 0);  // k-1
  EXPECT_NE(At("new", WithCustodians({"restore", archive}, {"cC", "cD"})).code, 0);  // a foreign custodian
  Bytes good = Slurp(archive);
  for (size_t at : {size_t{7}, good.size() / 3, good.size() / 2, good.size() - 5}) {
    Bytes bad = good;
    bad[at] ^= 0x40;
    Spit(dir_ + "/bad.cvbk", bad);
    EXPECT_NE(At("new", WithCustodians({"restore", dir_ + "/bad.cvbk"}, {"cB", "cC"})).code, 0) << at;
  }
  Spit(dir_ + "/cut.cvbk", Bytes(good.begin(), good.end() - 100));
  EXPECT_NE(At("new", WithCustodians({"restore", dir_ + "/cut.cvbk"}, {"cB", "cC"})).code, 0);
  EXPECT_EQ(At("new", {"list", "--token", "t", "--pin", "user-pin-1234", "--login"}).code == 0, false);  // nothing was written
  CliRun r = At("new", WithCustodians({"restore", archive}, {"cC", "cB"}));
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun list = At("new", {"list", "--token", "t", "--pin", "user-pin-1234", "--login"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("ca-key"), std::string::npos) << list.out;
  CliRun sign_in_new = At("new", {"audit", "--verify"});
  EXPECT_EQ(sign_in_new.code, 0) << sign_in_new.err;
  EXPECT_TRUE(Contains(Actions("new"), "restore:ok"));
  CliRun again = At("new", WithCustodians({"restore", archive}, {"cA", "cB"}));
  EXPECT_NE(again.code, 0);  // never overwrites
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
}

TEST_F(QuorumE2eTest, ZeroizeLeavesACopyFromBeforeUsableAndNoKeyAfter) {
  QuorumInit({"cA", "cB", "cC"});
  EXPECT_NE(So({"zeroize", "--token", "t"}).code, 0);  // the quorum guards it
  ASSERT_EQ(std::system(("cp -a '" + dir_ + "/vault' '" + dir_ + "/before'").c_str()), 0);
  Bytes wrapped;
  {
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    ASSERT_TRUE(store.ok());
    auto auth = (*store)->GetAuth(1, storage::Role::kUser);
    ASSERT_TRUE(auth.ok());
    wrapped = auth->wrapped_key;
  }
  std::string id = Request("zeroize");
  ASSERT_EQ(Approve(id, "cB").code, 0);
  ASSERT_EQ(Approve(id, "cC").code, 0);
  CliRun z = So({"zeroize", "--token", "t", "--op", id});
  ASSERT_EQ(z.code, 0) << z.err;
  EXPECT_EQ(At("before", {"list", "--token", "t", "--pin", "user-pin-1234", "--login"}).code, 0);
  EXPECT_NE(CliPin({"list", "--token", "t", "--login"}).code, 0);
  ASSERT_EQ(std::system(("cp -a '" + dir_ + "/vault' '" + dir_ + "/after'").c_str()), 0);
  for (const char* f : {"/after/vault.db", "/after/vault.db-wal"}) {
    Bytes file = Slurp(dir_ + f);
    EXPECT_EQ(std::search(file.begin(), file.end(), wrapped.begin(), wrapped.end()), file.end()) << f;
  }
  auto store = storage::OpenStore(dir_ + "/after/vault.db", storage::StoreOptions{});
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->GetAuth(1, storage::Role::kUser).ok());
  EXPECT_FALSE((*store)->GetAuth(1, storage::Role::kSo).ok());
  EXPECT_TRUE(Contains(Actions("after"), "zeroize:ok"));
}

TEST_F(QuorumE2eTest, RestoreIntoTheSlotOfAZeroizedTokenIsRefusedCleanly) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Request("backup");
  ASSERT_EQ(Approve(id, "cA").code, 0);
  ASSERT_EQ(Approve(id, "cB").code, 0);
  ASSERT_EQ(So({"backup", "--token", "t", "--out", dir_ + "/t.cvbk", "--op", id}).code, 0);
  std::string z = Request("zeroize");
  ASSERT_EQ(Approve(z, "cA").code, 0);
  ASSERT_EQ(Approve(z, "cB").code, 0);
  ASSERT_EQ(So({"zeroize", "--token", "t", "--op", z}).code, 0);
  CliRun r = Cli(WithCustodians({"restore", dir_ + "/t.cvbk"}, {"cA", "cC"}));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("event log of an earlier token"), std::string::npos) << r.err;
  EXPECT_NE(CliPin({"list", "--token", "t", "--login"}).code, 0);  // nothing written
  ASSERT_EQ(At("fresh", WithCustodians({"restore", dir_ + "/t.cvbk"}, {"cA", "cC"})).code, 0);
  EXPECT_EQ(At("fresh", {"list", "--token", "t", "--pin", "user-pin-1234", "--login"}).code, 0);
}

TEST_F(QuorumE2eTest, SoPinResetNeedsTheUserPinAndTheQuorum) {
  QuorumInit({"cA", "cB", "cC"});
  CliRun req = CliPin({"quorum", "request", "--token", "t", "--op", "so-pin-reset"});
  ASSERT_EQ(req.code, 0) << req.err;
  std::string id = req.out.substr(0, 32);
  ASSERT_EQ(Approve(id, "cC").code, 0);
  std::vector<std::string> reset = {"quorum", "so-pin-reset", "--token", "t", "--op", id, "--new-pin", "new-so-pin-99"};
  EXPECT_NE(CliPin(reset).code, 0);  // 1 of 2
  ASSERT_EQ(Approve(id, "cA").code, 0);
  CliRun r = CliPin(reset);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(So({"quorum", "request", "--token", "t", "--op", "backup"}).code, 0);  // the old SO PIN no longer works
  CliRun with_new = Cli({"quorum", "request", "--token", "t", "--op", "backup", "--so-pin", "new-so-pin-99"});
  EXPECT_EQ(with_new.code, 0) << with_new.err;
  EXPECT_TRUE(Contains(Actions(), "so_pin_reset:ok"));
}

TEST_F(QuorumE2eTest, ZeroizeWithoutQuorumNeedsTheSoPin) {
  EXPECT_NE(Cli({"zeroize", "--token", "t", "--so-pin", "wrong-so-pin"}).code, 0);
  EXPECT_EQ(CliPin({"list", "--token", "t", "--login"}).code, 0);
  ASSERT_EQ(So({"zeroize", "--token", "t"}).code, 0);
  EXPECT_NE(CliPin({"list", "--token", "t", "--login"}).code, 0);
}

// Restore is one transaction: a restore killed with SIGKILL at 10 % ... 90 %
// of its measured duration leaves either no token or the whole token.
TEST_F(QuorumE2eTest, KillDuringRestoreLeavesAllOrNothing) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Request("backup");
  ASSERT_EQ(Approve(id, "cA").code, 0);
  ASSERT_EQ(Approve(id, "cB").code, 0);
  const size_t objects = InflatedBackup("vault", id, dir_ + "/big.cvbk");
  ASSERT_GT(objects, 0u);
  auto restore = [&](const std::string& to) { return At(to, WithCustodians({"restore", dir_ + "/big.cvbk"}, {"cB", "cC"})); };
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(restore("full").code, 0);
  const auto full = std::chrono::steady_clock::now() - start;
  for (int tenth = 1; tenth <= 9; tenth += 2) {
    const std::string to = "killed" + std::to_string(tenth);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(restore(to).code);
    std::this_thread::sleep_for(full * tenth / 10);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    auto store = storage::OpenStore(dir_ + "/" + to + "/vault.db", storage::StoreOptions{});
    if (!store.ok()) continue;  // killed before the file existed
    auto tokens = (*store)->ListTokens();
    ASSERT_TRUE(tokens.ok());
    if (tokens->empty()) continue;
    size_t n = 0;
    ASSERT_TRUE((*store)->ForEachObject(1, [&](const storage::ObjectRow&) { ++n; return OkStatus(); }).ok());
    EXPECT_EQ(n, objects) << "killed at " << tenth << "0 %";
    EXPECT_TRUE((*store)->GetAuth(1, storage::Role::kUser).ok());
  }
}

}  // namespace
}  // namespace certvault::cli
