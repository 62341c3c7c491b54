// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-quorum-bench: backup and restore of a token with N key pairs
// (default 10,000), and what a quorum approval costs over the Argon2id PIN
// check of the custodian (docs/design/quorum.md, "Cost").
//   certvault-quorum-bench [--quick] [--keys N] [--work DIR]
// The token gets one real P-256 key pair through the embedded backend; the
// other rows are copies of it under fresh object ids, inserted in one
// transaction (their record MACs do not match their ids, which backup and
// restore do not look at: the timings are those of real rows of that size).
// Custodians use the default Argon2id cost (what custodians pay). No
// assertions: the smoke test (--quick) only proves it runs.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "src/core/embedded_backend.h"
#include "src/crypto/random.h"
#include "src/model/pkcs11_constants.h"
#include "src/quorum/backup.h"
#include "src/quorum/custodian.h"
#include "src/quorum/quorum.h"

namespace {

using namespace certvault;  // NOLINT: a bench program

constexpr char kSoPin[] = "bench-so-pin-1";
constexpr char kUserPin[] = "bench-user-pin-1";
const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

SecretBytes Pin(const char* p) { return SecretBytes(std::string_view(p), SecretAccess::Get()); }

double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string g_dir;  // the work directory, removed on exit (also on failure)

[[noreturn]] void Die(const std::string& what, const Status& s) {
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir);
  std::fprintf(stderr, "certvault-quorum-bench: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  std::exit(1);
}
#define BENCH_CHECK(expr, what)            \
  do {                                     \
    Status s_ = (expr);                    \
    if (!s_.ok()) Die(what, s_);           \
  } while (0)

std::unique_ptr<Backend> MakeToken(const std::string& dir, bool fast_kdf, storage::TokenId* slot) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/certvault.conf") << "[vault]\n" << (fast_kdf ? "kdf_memory_kib = 64\nkdf_iterations = 1\n" : "");
  BackendOptions options;
  options.vault_dir = dir + "/vault";
  options.config_path = dir + "/certvault.conf";
  options.create_vault = true;
  auto b = OpenEmbeddedBackend(options);
  if (!b.ok()) Die("open " + dir, b.status());
  auto slots = (*b)->GetSlotList(true);
  *slot = slots->back();
  BENCH_CHECK((*b)->InitToken(*slot, Pin(kSoPin), "bench"), "init token");
  auto so = (*b)->OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  BENCH_CHECK((*b)->Login(*so, UserType::kSo, Pin(kSoPin)), "so login");
  BENCH_CHECK((*b)->InitPin(*so, Pin(kUserPin)), "init pin");
  BENCH_CHECK((*b)->CloseSession(*so), "close");
  return std::move(*b);
}

// FillKeys: one real key pair, then copies up to `pairs` pairs.
void FillKeys(Backend& b, storage::TokenId slot, storage::Store& store, size_t pairs) {
  auto s = b.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  BENCH_CHECK(b.Login(*s, UserType::kUser, Pin(kUserPin)), "user login");
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_EXTRACTABLE, false);
  priv.SetString(CKA_LABEL, "bench-key");
  auto kp = b.GenerateKeyPair(*s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
  if (!kp.ok()) Die("keygen", kp.status());
  BENCH_CHECK(b.CloseSession(*s), "close");
  std::vector<storage::ObjectRow> proto;
  BENCH_CHECK(store.ForEachObject(slot, [&](const storage::ObjectRow& r) { proto.push_back(r); return OkStatus(); }),
              "read rows");
  std::vector<storage::ObjectRow> rows;
  for (size_t i = 1; i < pairs; ++i) {
    for (storage::ObjectRow r : proto) {
      uint64_t id = 0;
      BENCH_CHECK(crypto::RandomBytes({reinterpret_cast<uint8_t*>(&id), sizeof(id)}), "random");
      r.object_id = (id >> 2) | 1;
      rows.push_back(std::move(r));
    }
  }
  BENCH_CHECK(store.RunExclusive([&] { return store.RestoreObjects(rows); }), "fill");
}

}  // namespace

int main(int argc, char** argv) {
  size_t pairs = 10000;
  std::string work = ".";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--keys") && i + 1 < argc) pairs = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--work") && i + 1 < argc) work = argv[++i];
  }
  if (quick) pairs = 50;
  char tmpl[4096];
  std::snprintf(tmpl, sizeof(tmpl), "%s/cv_quorum_bench.XXXXXX", work.c_str());
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  g_dir = dir;
  storage::TokenId slot = 0;
  std::unique_ptr<Backend> vault = MakeToken(dir + "/v", /*fast_kdf=*/quick, &slot);
  auto* embedded = dynamic_cast<core::EmbeddedBackend*>(vault.get());
  storage::Store* store = *embedded->MaintenanceStore();
  // The SO's token key before the copies are added (they fail the login-time object-set check).
  auto tk = embedded->UnlockTokenKey(slot, UserType::kSo, Pin(kSoPin));
  if (!tk.ok()) Die("so pin", tk.status());
  FillKeys(*vault, slot, *store, pairs);
  std::vector<std::unique_ptr<Backend>> custodian_vaults;
  std::vector<std::unique_ptr<quorum::Custodian>> custodians;
  for (int i = 0; i < 3; ++i) {
    storage::TokenId cslot = 0;
    std::string cdir = dir + "/c" + std::to_string(i);
    custodian_vaults.push_back(MakeToken(cdir, quick, &cslot));
    auto c = quorum::Custodian::Open(cdir + "/vault", cdir + "/certvault.conf", Pin(kUserPin));
    if (!c.ok()) Die("custodian", c.status());
    custodians.push_back(std::move(*c));
  }
  std::vector<quorum::Custodian*> raw = {custodians[0].get(), custodians[1].get(), custodians[2].get()};
  auto config = quorum::InitQuorum(*store, slot, *tk, 2, raw, false);
  if (!config.ok()) Die("quorum init", config.status());

  // Approval: the custodian's PIN check alone vs. opening the custodian + approving.
  auto id = quorum::RequestOp(*store, slot, *tk, "backup", 600);
  double pin_ms = 0, approve_ms = 0;
  for (int i = 0; i < 2; ++i) {
    std::string cdir = dir + "/c" + std::to_string(i);
    BackendOptions o;
    o.vault_dir = cdir + "/vault";
    o.config_path = cdir + "/certvault.conf";
    auto b = OpenEmbeddedBackend(o);
    double t0 = NowMs();
    auto k = dynamic_cast<core::EmbeddedBackend*>(b->get())->UnlockTokenKey(1, UserType::kUser, Pin(kUserPin));
    double t1 = NowMs();
    auto c = quorum::Custodian::Open(cdir + "/vault", cdir + "/certvault.conf", Pin(kUserPin));
    if (!k.ok() || !c.ok()) Die("custodian open", c.status());
    auto st = quorum::ApproveOp(*store, *id, **c);
    double t2 = NowMs();
    if (!st.ok()) Die("approve", st.status());
    pin_ms += t1 - t0;
    approve_ms += t2 - t1;
  }
  double t0 = NowMs();
  auto secret = quorum::AuthorizeOp(*store, slot, *tk, *id, "backup");
  double authorize_ms = NowMs() - t0;
  if (!secret.ok()) Die("authorize", secret.status());
  quorum::BackupSummary summary;
  t0 = NowMs();
  auto archive = quorum::CreateBackup(*store, slot, *tk, *config, &summary);
  double backup_ms = NowMs() - t0;
  if (!archive.ok()) Die("backup", archive.status());
  std::filesystem::create_directories(dir + "/r");
  storage::StoreOptions so;
  so.create_if_missing = true;
  auto target = storage::OpenStore(dir + "/r/vault.db", so);
  t0 = NowMs();
  auto restored = quorum::RestoreBackup(**target, *archive, {raw[1], raw[2]});
  double restore_ms = NowMs() - t0;
  if (!restored.ok()) Die("restore", restored.status());
  std::printf("certvault-quorum-bench: %zu objects (%zu key pairs), archive %.1f MiB\n", summary.objects, pairs,
              archive->size() / 1048576.0);
  std::printf("  backup  (read, encrypt, sign)            %8.1f ms\n", backup_ms);
  std::printf("  restore (2 custodians, decrypt, 1 txn)   %8.1f ms\n", restore_ms);
  std::printf("  custodian PIN check (Argon2id) alone     %8.1f ms\n", pin_ms / 2);
  std::printf("  custodian open + approve (incl. PIN)     %8.1f ms  -> overhead %.1f ms\n", approve_ms / 2,
              approve_ms / 2 - pin_ms / 2);
  std::printf("  authorize (SO side: rebuild + verify)    %8.1f ms\n", authorize_ms);
  std::filesystem::remove_all(dir);
  return 0;
}
