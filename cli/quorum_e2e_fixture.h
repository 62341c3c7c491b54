// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// QuorumCliFixture: helpers to run the quorum verbs (docs/design/quorum.md)
// over vaults and custodian tokens in a temporary directory; its SetUp makes
// only the directory. QuorumE2eTest: a vault with token "t" (a P-256 key
// "ca-key") and four custodian tokens cA..cD (low Argon2id cost).
#ifndef CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_
#define CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "cli/cli_e2e_fixture.h"
#include "src/core/backend.h"
#include "src/core/embedded_backend.h"
#include "src/crypto/random.h"
#include "src/quorum/backup.h"
#include "src/quorum/quorum.h"
#include "src/storage/store.h"

namespace certvault::cli {

class QuorumCliFixture : public CliE2eFixture {
 protected:
  void TearDown() override {
    unsetenv("CERTVAULT_CONF");
    CliE2eFixture::TearDown();
  }
  // UseConf: DIR/conf.toml = the low Argon2id cost + `extra` lines, as $CERTVAULT_CONF.
  void UseConf(const std::string& extra = "") {
    std::ofstream(dir_ + "/conf.toml") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n" << extra;
    setenv("CERTVAULT_CONF", (dir_ + "/conf.toml").c_str(), 1);
  }
  // At: `certvault --vault DIR/vault_name WORDS...`.
  CliRun At(const std::string& vault, std::vector<std::string> words) {
    words.insert(words.begin(), {"certvault", "--vault", dir_ + "/" + vault});
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    std::ostringstream out, err;
    int code = RunCli(static_cast<int>(argv.size()), argv.data(), OpenEmbeddedBackend, out, err);
    return {code, out.str(), err.str()};
  }
  void MakeCustodian(const std::string& name) {
    CliRun r = At(name, {"init", "--label", name, "--so-pin", "so-pin-1234", "--pin", "pin-of-" + name});
    ASSERT_EQ(r.code, 0) << r.err;
    std::string file = dir_ + "/" + name + ".pin";
    std::ofstream(file) << "pin-of-" << name << "\n";
    chmod(file.c_str(), 0600);
  }
  // WithCustodians: WORDS + --custodian DIR --custodian-pin-file F for each.
  std::vector<std::string> WithCustodians(std::vector<std::string> words, std::vector<std::string> names) {
    for (const std::string& n : names) {
      words.insert(words.end(), {"--custodian", dir_ + "/" + n, "--custodian-pin-file", dir_ + "/" + n + ".pin"});
    }
    return words;
  }
  CliRun So(std::vector<std::string> words) {
    words.insert(words.end(), {"--so-pin", "so-pin-1234"});
    return Cli(words);
  }
  // QuorumInitRun: `quorum init --token t --k 2` to `names` (re-sharing under `op` if given).
  CliRun QuorumInitRun(std::vector<std::string> names, const std::string& op = "") {
    std::vector<std::string> w = {"quorum", "init", "--token", "t", "--k", "2"};
    if (!op.empty()) w.insert(w.end(), {"--op", op});
    return So(WithCustodians(w, names));
  }
  void QuorumInit(std::vector<std::string> names, const std::string& op = "") {
    CliRun r = QuorumInitRun(names, op);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string Request(const std::string& op) {
    CliRun r = So({"quorum", "request", "--token", "t", "--op", op});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  CliRun Approve(const std::string& id, const std::string& custodian) {
    return Cli(
        {"quorum", "approve", "--op", id, "--custodian", dir_ + "/" + custodian, "--pin", "pin-of-" + custodian});
  }
  std::vector<std::string> Actions(const std::string& vault = "vault") {
    std::vector<std::string> out;
    auto store = storage::OpenStore(dir_ + "/" + vault + "/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok());
    (void)(*store)->ForEachEvent(1, [&](const storage::EventRow& e) {
      out.push_back(e.action + ":" + e.result);
      return OkStatus();
    });
    return out;
  }
  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  static Bytes Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
  }
  static void Spit(const std::string& path, const Bytes& b) {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
  }
  // Objects: how many objects token 1 of vault `vault` has.
  size_t Objects(const std::string& vault) {
    auto store = storage::OpenStore(dir_ + "/" + vault + "/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok());
    size_t n = 0;
    EXPECT_TRUE((*store)
                    ->ForEachObject(1,
                                    [&](const storage::ObjectRow&) {
                                      ++n;
                                      return OkStatus();
                                    })
                    .ok());
    return n;
  }
  // InflatedBackup: token 1 of `vault` grown by 1,500 copies of its object
  // rows (so that a restore takes a while; their object-set MAC no longer
  // holds, so the library makes the archive directly, as the CLI would after
  // AuthorizeOp of `backup_op`), archived at `out`. Returns the number of
  // objects in the archive (0 on failure, which is also reported).
  size_t InflatedBackup(const std::string& vault, const std::string& backup_op, const std::string& out) {
    BackendOptions options;
    options.vault_dir = dir_ + "/" + vault;
    auto b = OpenEmbeddedBackend(options);
    if (!b.ok()) {
      ADD_FAILURE() << b.status().message();
      return 0;
    }
    auto* embedded = dynamic_cast<core::EmbeddedBackend*>(b->get());
    storage::Store* store = *embedded->MaintenanceStore();
    auto tk =
        embedded->UnlockTokenKey(1, UserType::kSo, SecretBytes(std::string_view("so-pin-1234"), SecretAccess::Get()));
    if (!tk.ok()) {
      ADD_FAILURE() << tk.status().message();
      return 0;
    }
    std::vector<storage::ObjectRow> proto, rows;
    EXPECT_TRUE(store
                    ->ForEachObject(1,
                                    [&](const storage::ObjectRow& r) {
                                      proto.push_back(r);
                                      return OkStatus();
                                    })
                    .ok());
    for (int i = 0; i < 1500; ++i) {
      for (storage::ObjectRow r : proto) {
        uint64_t oid = 0;
        EXPECT_TRUE(crypto::RandomBytes({reinterpret_cast<uint8_t*>(&oid), sizeof(oid)}).ok());
        r.object_id = (oid >> 2) | 1;
        rows.push_back(std::move(r));
      }
    }
    EXPECT_TRUE(store->RunExclusive([&] { return store->RestoreObjects(rows); }).ok());
    EXPECT_TRUE(quorum::AuthorizeOp(*store, 1, *tk, backup_op, "backup").ok());
    auto config = quorum::LoadQuorum(*store, 1, *tk);
    if (!config.ok()) {
      ADD_FAILURE() << config.status().message();
      return 0;
    }
    quorum::BackupSummary summary;
    auto made = quorum::CreateBackup(*store, 1, *tk, **config, &summary);
    if (!made.ok()) {
      ADD_FAILURE() << made.status().message();
      return 0;
    }
    Spit(out, *made);
    return proto.size() + rows.size();
  }
};

class QuorumE2eTest : public QuorumCliFixture {
 protected:
  void SetUp() override {
    QuorumCliFixture::SetUp();
    UseConf();
    Init();
    ASSERT_EQ(CliPin({"keygen", "--label", "ca-key", "--type", "ec:p256"}).code, 0);
    for (const char* c : {"cA", "cB", "cC", "cD"}) MakeCustodian(c);
  }
};

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_QUORUM_E2E_FIXTURE_H_
