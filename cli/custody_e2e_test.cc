// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Key custody end to end (issue 16, docs/design/quorum.md): quorum-protected
// keys are created and destroyed only under an approved create-key /
// destroy-key operation, no PKCS#11 call may modify, copy or destroy them and
// the flag never clears; restore --overwrite replaces a token only with its
// quorum's approval, all or nothing.
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli/quorum_e2e_fixture.h"
#include "src/core/auth.h"
#include "src/core/embedded_backend.h"
#include "src/crypto/random.h"
#include "src/model/vendor_attributes.h"
#include "src/quorum/backup.h"
#include "src/quorum/quorum.h"

namespace certvault::cli {
namespace {

class CustodyE2eTest : public QuorumE2eTest {
 protected:
  // Approved: an operation `op` approved by `custodians`.
  std::string Approved(const std::string& op, std::vector<std::string> custodians) {
    std::string id = Request(op);
    for (const std::string& c : custodians) EXPECT_EQ(Approve(id, c).code, 0) << c;
    return id;
  }
  // UserSession: a R/W session of token "t" on an embedded backend, user
  // logged in, and the private key labelled `label` (0 if none).
  struct Opened {
    std::unique_ptr<Backend> backend;
    SessionHandle session = 0;
    ObjectHandle key = 0;
  };
  Opened UserSession(const std::string& label) {
    Opened o;
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok());
    o.backend = std::move(*b);
    o.session = *o.backend->OpenSession(1, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    SecretBytes pin = SecretBytes("user-pin-1234", SecretAccess::Get());
    EXPECT_TRUE(o.backend->Login(o.session, UserType::kUser, pin).ok());
    AttributeSet find;
    find.SetUlong(CKA_CLASS, CKO_PRIVATE_KEY);
    find.Set(CKA_LABEL, AsSpan(label));
    EXPECT_TRUE(o.backend->FindObjectsInit(o.session, find).ok());
    auto found = o.backend->FindObjects(o.session, 4);
    (void)o.backend->FindObjectsFinal(o.session);
    if (found.ok() && !found->empty()) o.key = found->front();
    return o;
  }
  // Backup: an archive of token "t" (2 approvals), at DIR/t.cvbk.
  std::string Backup() {
    std::string archive = dir_ + "/t.cvbk";
    CliRun r = So({"backup", "--token", "t", "--out", archive, "--op", Approved("backup", {"cA", "cB"})});
    EXPECT_EQ(r.code, 0) << r.err;
    return archive;
  }
  CliRun Overwrite(const std::string& vault, const std::string& archive, const std::string& op) {
    std::vector<std::string> w = {"restore", archive, "--overwrite", "--so-pin", "so-pin-1234"};
    if (!op.empty()) w.insert(w.end(), {"--op", op});
    return At(vault, WithCustodians(w, {"cB", "cC"}));
  }
  std::vector<std::string> Keygen(const std::string& label, const std::string& op) {
    return {"keygen", "--label", label, "--type", "ec:p256", "--op", op, "--pin", "user-pin-1234"};
  }
};

TEST_F(CustodyE2eTest, AnyTwoOfThreeCreateAndDestroyAProtectedKeyOneNever) {
  QuorumInit({"cA", "cB", "cC"});
  std::string one = Approved("create-key", {"cB"});
  CliRun refused = Cli(Keygen("root", one));
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("1 of 2 approvals"), std::string::npos) << refused.err;
  EXPECT_EQ(UserSession("root").key, 0u);  // nothing was created
  std::string wrong_op = Approved("destroy-key", {"cA", "cB"});
  EXPECT_NE(Cli(Keygen("root", wrong_op)).code, 0);  // approved, but for another operation
  std::string create = Approved("create-key", {"cB", "cC"});
  CliRun made = Cli(Keygen("root", create));
  ASSERT_EQ(made.code, 0) << made.err;

  CliRun plain = CliPin({"delete", "--object", "root", "--type", "all"});
  EXPECT_NE(plain.code, 0);
  EXPECT_NE(plain.err.find("quorum-protected"), std::string::npos) << plain.err;
  std::string k_minus_1 = Approved("destroy-key", {"cC"});
  EXPECT_NE(CliPin({"delete", "--object", "root", "--type", "all", "--op", k_minus_1}).code, 0);
  EXPECT_NE(UserSession("root").key, 0u);  // still there
  std::string destroy = Approved("destroy-key", {"cA", "cC"});
  CliRun gone = CliPin({"delete", "--object", "root", "--type", "all", "--op", destroy});
  ASSERT_EQ(gone.code, 0) << gone.err;
  EXPECT_EQ(UserSession("root").key, 0u);
  std::vector<std::string> log = Actions();
  for (const char* a : {"quorum_complete:ok", "quorum_refuse:PERMISSION_DENIED", "destroy_object:ok"}) {
    EXPECT_TRUE(Contains(log, a)) << a;
  }
  EXPECT_EQ(Cli({"audit", "--verify"}).code, 0);
}

// CKM_CV_QUORUM tells a PKCS#11 application (certvault-ca init) that the
// token has a quorum, with k and n; a token without one does not list it.
TEST_F(CustodyE2eTest, OnlyATokenWithAQuorumListsCkmCvQuorum) {
  Opened before = UserSession("ca-key");
  EXPECT_EQ(before.backend->GetMechanismInfo(1, kCkmCvQuorum).status().reason(), Reason::kMechanismInvalid);
  QuorumInit({"cA", "cB", "cC"});
  Opened after = UserSession("ca-key");
  auto info = after.backend->GetMechanismInfo(1, kCkmCvQuorum);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->min_key_size, 2u);
  EXPECT_EQ(info->max_key_size, 3u);
  EXPECT_EQ(info->flags, 0u);
}

TEST_F(CustodyE2eTest, Pkcs11CannotChangeCopyDestroyOrForgeAProtectedKey) {
  QuorumInit({"cA", "cB", "cC"});
  ASSERT_EQ(Cli(Keygen("root", Approved("create-key", {"cA", "cB"}))).code, 0);
  Opened o = UserSession("root");
  ASSERT_NE(o.key, 0u);
  std::vector<AttributeRequest> read = {{kCkaCvQuorumProtected}};
  ASSERT_TRUE(o.backend->GetAttributeValue(o.session, o.key, &read).ok());
  EXPECT_EQ(read[0].value, EncodeBool(true));
  EXPECT_EQ(o.backend->DestroyObject(o.session, o.key).reason(), Reason::kActionProhibited);
  AttributeSet label;
  label.Set(CKA_LABEL, AsSpan("renamed"));
  EXPECT_EQ(o.backend->SetAttributeValue(o.session, o.key, label).reason(), Reason::kActionProhibited);
  AttributeSet clear;
  clear.SetBool(kCkaCvQuorumProtected, false);
  EXPECT_NE(o.backend->SetAttributeValue(o.session, o.key, clear).reason(), Reason::kNone);
  EXPECT_EQ(o.backend->CopyObject(o.session, o.key, AttributeSet()).status().reason(), Reason::kActionProhibited);
  AttributeSet destroyed;
  destroyed.SetUlong(kCkaCvKeyState, kCvStateDestroyed);
  EXPECT_EQ(o.backend->SetAttributeValue(o.session, o.key, destroyed).reason(), Reason::kActionProhibited);
  AttributeSet suspended;  // taking the key out of use keeps its material: allowed
  suspended.SetUlong(kCkaCvKeyState, kCvStateSuspended);
  EXPECT_TRUE(o.backend->SetAttributeValue(o.session, o.key, suspended).ok());
  // A template cannot ask for the flag without an approved operation.
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, Bytes{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07});
  priv.SetBool(CKA_TOKEN, true);
  priv.SetBool(kCkaCvQuorumProtected, true);
  EXPECT_EQ(o.backend->GenerateKeyPair(o.session, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).status().reason(),
            Reason::kActionProhibited);
  // A used operation id does not create a second protected key in another login.
  (void)o.backend->CloseSession(o.session);
  std::string used = Approved("create-key", {"cA", "cC"});
  ASSERT_EQ(Cli(Keygen("issuing", used)).code, 0);
  EXPECT_NE(Cli(Keygen("ocsp", used)).code, 0);
  // C_InitToken does not wipe a token that has a quorum (that is zeroize).
  SecretBytes so = SecretBytes("so-pin-1234", SecretAccess::Get());
  EXPECT_EQ(o.backend->InitToken(1, so, "t").reason(), Reason::kActionProhibited);
}

TEST_F(CustodyE2eTest, OneApprovalServesTheKeysOfOneLogin) {
  QuorumInit({"cA", "cB", "cC"});
  std::string id = Approved("create-key", {"cA", "cB"});
  Opened o = UserSession("none");
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, Bytes{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07});
  priv.SetBool(CKA_TOKEN, true);
  pub.SetBool(CKA_TOKEN, true);
  priv.Set(kCkaCvQuorumOp, AsSpan(id));
  const Mechanism mech{CKM_EC_KEY_PAIR_GEN, {}};
  ASSERT_TRUE(o.backend->GenerateKeyPair(o.session, mech, pub, priv).ok());
  ASSERT_TRUE(o.backend->GenerateKeyPair(o.session, mech, pub, priv).ok());  // the same ceremony
  ASSERT_TRUE(o.backend->Logout(o.session).ok());
  SecretBytes pin = SecretBytes("user-pin-1234", SecretAccess::Get());
  ASSERT_TRUE(o.backend->Login(o.session, UserType::kUser, pin).ok());
  EXPECT_EQ(o.backend->GenerateKeyPair(o.session, mech, pub, priv).status().code(), StatusCode::kPermissionDenied);
}

TEST_F(CustodyE2eTest, RestoreOverwritesOnlyWithTheFlagAndTheQuorum) {
  QuorumInit({"cA", "cB", "cC"});
  const std::string archive = Backup();
  ASSERT_EQ(CliPin({"keygen", "--label", "after", "--type", "ec:p256"}).code, 0);  // the token moves on
  const size_t before = Objects("vault");
  CliRun plain = At("vault", WithCustodians({"restore", archive}, {"cB", "cC"}));
  EXPECT_NE(plain.code, 0);
  EXPECT_NE(plain.err.find("never overwritten"), std::string::npos) << plain.err;
  EXPECT_NE(Overwrite("vault", archive, "").code, 0);  // --overwrite without an operation
  std::string id = Approved("restore", {"cA"});
  CliRun one = Overwrite("vault", archive, id);
  EXPECT_NE(one.code, 0);
  EXPECT_NE(one.err.find("1 of 2 approvals"), std::string::npos) << one.err;
  EXPECT_EQ(Objects("vault"), before);  // untouched
  EXPECT_NE(UserSession("after").key, 0u);
  ASSERT_EQ(Approve(id, "cC").code, 0);
  CliRun ok = Overwrite("vault", archive, id);
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(Objects("vault"), before - 2);  // the archive's token: without the pair made after it
  EXPECT_EQ(UserSession("after").key, 0u);
  EXPECT_NE(UserSession("ca-key").key, 0u);
  std::vector<std::string> log = Actions();
  EXPECT_TRUE(Contains(log, "restore:ok"));
  CliRun verify = Cli({"audit", "--verify"});
  EXPECT_EQ(verify.code, 0) << verify.err;
}

// kill -9 at several points of restore --overwrite: each copy of the vault
// holds either the old token (with the pair made after the backup) or the
// archive's, never a mixture. The archive is inflated so that the one
// transaction takes a while; where the kill lands does not change what must hold.
TEST_F(CustodyE2eTest, KillDuringOverwriteLeavesTheOldTokenOrTheNew) {
  QuorumInit({"cA", "cB", "cC"});
  namespace fs = std::filesystem;
  auto copy = [&](const std::string& from, const std::string& to) {
    fs::copy(dir_ + "/" + from, dir_ + "/" + to, fs::copy_options::recursive);
  };
  const std::string backup_op = Approved("backup", {"cA", "cB"});
  copy("vault", "src");
  const std::string archive = dir_ + "/big.cvbk";
  ASSERT_GT(InflatedBackup("src", backup_op, archive), 0u);
  const size_t fresh = Objects("src");
  ASSERT_EQ(CliPin({"keygen", "--label", "after", "--type", "ec:p256"}).code, 0);  // the vault moves on
  const size_t old = Objects("vault");
  ASSERT_NE(old, fresh);
  const std::string id = Approved("restore", {"cA", "cB"});
  copy("vault", "full");
  auto start = std::chrono::steady_clock::now();
  CliRun full = Overwrite("full", archive, id);
  ASSERT_EQ(full.code, 0) << full.err;
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(Objects("full"), fresh);
  for (int tenth = 1; tenth <= 9; tenth += 4) {
    const std::string to = "killed" + std::to_string(tenth);
    copy("vault", to);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(Overwrite(to, archive, id).code);
    std::this_thread::sleep_for(took * tenth / 10);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    const size_t n = Objects(to);
    EXPECT_TRUE(n == old || n == fresh) << "killed at " << tenth << "0 %: " << n << " objects";
  }
}

// The policy the quorum approved: keys are generated only while the vault
// runs with it; a changed policy.toml needs an approved `policy` operation.
TEST_F(CustodyE2eTest, AChangedPolicyNeedsTheQuorumBeforeNewKeys) {
  std::ofstream(dir_ + "/policy.toml") << "# approved\n";
  std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npolicy = policy.toml\n";
  QuorumInit({"cA", "cB", "cC"});
  ASSERT_EQ(CliPin({"keygen", "--label", "k1", "--type", "ec:p256"}).code, 0);
  std::ofstream(dir_ + "/policy.toml") << "# changed without the quorum\n";
  CliRun refused = CliPin({"keygen", "--label", "k2", "--type", "ec:p256"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("not the one this token's quorum approved"), std::string::npos) << refused.err;
  std::string one = Approved("policy", {"cB"});
  EXPECT_NE(So({"quorum", "policy", "--token", "t", "--op", one}).code, 0);
  EXPECT_NE(CliPin({"keygen", "--label", "k2", "--type", "ec:p256"}).code, 0);
  CliRun approved = So({"quorum", "policy", "--token", "t", "--op", Approved("policy", {"cA", "cC"})});
  ASSERT_EQ(approved.code, 0) << approved.err;
  EXPECT_EQ(CliPin({"keygen", "--label", "k2", "--type", "ec:p256"}).code, 0);
  EXPECT_TRUE(Contains(Actions(), "policy_approved:ok"));
}

// A backup carries the policy the quorum pinned, and restore re-pins it: on
// the restored token keys are generated under the approved policy only.
TEST_F(CustodyE2eTest, ARestoredTokenKeepsItsPinnedPolicy) {
  std::ofstream(dir_ + "/policy.toml") << "# approved\n";
  std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npolicy = policy.toml\n";
  QuorumInit({"cA", "cB", "cC"});
  const std::string archive = dir_ + "/t.cvbk";
  ASSERT_EQ(So({"backup", "--token", "t", "--out", archive, "--op", Approved("backup", {"cA", "cB"})}).code, 0);
  CliRun restored = At("new", WithCustodians({"restore", archive}, {"cB", "cC"}));
  ASSERT_EQ(restored.code, 0) << restored.err;
  CliRun approved = At("new", {"keygen", "--label", "k1", "--type", "ec:p256", "--pin", "user-pin-1234"});
  EXPECT_EQ(approved.code, 0) << approved.err;
  std::ofstream(dir_ + "/policy.toml") << "# changed without the quorum\n";
  CliRun refused = At("new", {"keygen", "--label", "k2", "--type", "ec:p256", "--pin", "user-pin-1234"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("not the one this token's quorum approved"), std::string::npos) << refused.err;
}

// The token's audit configuration (its event log flag) changes with the SO
// PIN alone while it has no quorum, and then only under an approved
// `audit-config` operation: 1 approval is refused, 2 change it.
TEST_F(CustodyE2eTest, AuditConfigNeedsTheQuorumOnceThereIsOne) {
  auto flags = [&]() {
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok());
    auto row = (*store)->GetToken(1);
    EXPECT_TRUE(row.ok());
    return row.ok() ? row->flags : 0;
  };
  const std::vector<std::string> off = {"quorum", "audit-config", "--token", "t", "--event-log", "off"};
  const std::vector<std::string> on = {"quorum", "audit-config", "--token", "t", "--event-log", "on"};
  ASSERT_EQ(So(off).code, 0);  // no quorum yet: the SO PIN
  EXPECT_EQ(flags() & core::kTokenFlagEventLog, 0u);
  ASSERT_EQ(So(on).code, 0);
  EXPECT_NE(flags() & core::kTokenFlagEventLog, 0u);
  QuorumInit({"cA", "cB", "cC"});
  CliRun bare = So(off);
  EXPECT_NE(bare.code, 0);
  EXPECT_NE(bare.err.find("needs the quorum"), std::string::npos) << bare.err;
  std::vector<std::string> with_one = off;
  with_one.insert(with_one.end(), {"--op", Approved("audit-config", {"cA"})});
  CliRun one = So(with_one);
  EXPECT_NE(one.code, 0);
  EXPECT_NE(one.err.find("1 of 2 approvals"), std::string::npos) << one.err;
  std::vector<std::string> other = off;
  other.insert(other.end(), {"--op", Approved("policy", {"cA", "cB"})});
  EXPECT_NE(So(other).code, 0);  // approved for another operation
  EXPECT_NE(flags() & core::kTokenFlagEventLog, 0u);
  std::vector<std::string> with_two = off;
  with_two.insert(with_two.end(), {"--op", Approved("audit-config", {"cB", "cC"})});
  CliRun two = So(with_two);
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(flags() & core::kTokenFlagEventLog, 0u);
  EXPECT_TRUE(Contains(Actions(), "audit_config:ok"));
  CliRun verify = Cli({"audit", "--verify"});
  EXPECT_EQ(verify.code, 0) << verify.err;
}

// While certvaultd answers on the configured socket the vault is its own:
// the verbs that open vault.db in the CLI's process refuse, naming the
// daemon, and change nothing; once nothing answers (certvaultd stopped) they
// run. A listening socket stands in for certvaultd: nothing here talks to it.
TEST_F(CustodyE2eTest, QuorumVerbsRefuseWhileCertvaultdOwnsTheVault) {
  QuorumInit({"cA", "cB", "cC"});
  const std::string archive = dir_ + "/t.cvbk";
  ASSERT_EQ(So({"backup", "--token", "t", "--out", archive, "--op", Approved("backup", {"cA", "cB"})}).code, 0);
  const std::string path = dir_ + "/d.sock";
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  path.copy(addr.sun_path, path.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  setenv("CERTVAULT_SOCKET", path.c_str(), 1);
  struct Unset {
    ~Unset() { unsetenv("CERTVAULT_SOCKET"); }  // also when an ASSERT returns early
  } unset;
  const size_t events = Actions().size();
  for (std::vector<std::string> words :
       {std::vector<std::string>{"quorum", "request", "--token", "t", "--op", "backup"},
        {"quorum", "init", "--token", "t", "--k", "2", "--custodian", dir_ + "/cA"},
        {"quorum", "policy", "--token", "t", "--op", "x"},
        {"quorum", "audit-config", "--token", "t", "--event-log", "off"},
        {"backup", "--token", "t", "--out", dir_ + "/u.cvbk", "--op", "x"},
        {"zeroize", "--token", "t"}}) {
    CliRun r = So(words);
    EXPECT_NE(r.code, 0) << words[0];
    EXPECT_NE(r.err.find("certvaultd at " + path + " owns this vault"), std::string::npos) << r.err;
  }
  CliRun restore = Cli(WithCustodians({"restore", archive}, {"cA", "cB"}));
  EXPECT_NE(restore.err.find("owns this vault"), std::string::npos) << restore.err;
  EXPECT_EQ(Actions().size(), events);  // nothing was written, not even a refusal
  close(fd);
  unlink(path.c_str());
  CliRun stopped = So({"quorum", "request", "--token", "t", "--op", "backup"});  // the daemon is gone
  EXPECT_EQ(stopped.code, 0) << stopped.err;
}

// Someone who can write vault.db deletes the quorum record and the policy
// pin (as `sqlite3 vault.db "DELETE FROM meta ..."` would): the token's
// integrity-protected row still says it has a quorum, so the guarded
// operations are refused, naming the edit, instead of running unguarded.
TEST_F(CustodyE2eTest, ADeletedQuorumRecordIsRefusedNotIgnored) {
  std::ofstream(dir_ + "/policy.toml") << "# approved\n";
  std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\npolicy = policy.toml\n";
  QuorumInit({"cA", "cB", "cC"});
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/vault/vault.db").c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "DELETE FROM meta WHERE key LIKE 'quorum/1/%'", nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_changes(db), 2);  // config and policy pin
    sqlite3_close(db);
  }
  const std::string missing = "quorum record is missing from vault.db";
  CliRun zeroize = So({"zeroize", "--token", "t"});
  EXPECT_NE(zeroize.code, 0);
  EXPECT_NE(zeroize.err.find(missing), std::string::npos) << zeroize.err;
  EXPECT_EQ(CliPin({"list", "--token", "t", "--login"}).code, 0);  // not zeroized
  CliRun init = QuorumInitRun({"cA", "cB", "cC"});                 // a quorum of one's own choosing instead
  EXPECT_NE(init.code, 0);
  EXPECT_NE(init.err.find(missing), std::string::npos) << init.err;
  CliRun request = So({"quorum", "request", "--token", "t", "--op", "backup"});
  EXPECT_NE(request.code, 0);
  EXPECT_NE(request.err.find(missing), std::string::npos) << request.err;
  std::ofstream(dir_ + "/policy.toml") << "# weaker, not approved\n";
  CliRun keygen = CliPin({"keygen", "--label", "k", "--type", "ec:p256"});
  EXPECT_NE(keygen.code, 0);
  EXPECT_NE(keygen.err.find("quorum policy pin is missing from vault.db"), std::string::npos) << keygen.err;
}

}  // namespace
}  // namespace certvault::cli
