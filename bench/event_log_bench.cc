// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-event-log-bench: what the vault's event log (docs/formats/
// event-log.md) costs C_Login and C_GenerateKeyPair, side by side with the
// log off (BackendOptions::event_log = false), through the embedded backend.
//   certvault-event-log-bench [--quick] [--rounds R] [--n N] [--work DIR]
// Two vaults, one per mode, in DIR (default: the current directory, so that
// SQLite's fsyncs hit the real disk). The modes alternate round by round
// (off, on, off, on ...) so that load from other work on the machine falls on
// both alike; each row shows the median over the rounds of the per-round
// mean. Login is timed with the default PIN KDF (what users pay) and with a
// cheap one (64 KiB, 1 pass), where the log's own cost is not hidden by
// Argon2id. No assertions: the smoke test (--quick) only proves it runs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "src/core/backend.h"
#include "src/model/pkcs11_constants.h"

namespace {

using certvault::Backend;
using certvault::SecretAccess;
using certvault::SecretBytes;

constexpr char kSoPin[] = "bench-so-pin-1";
constexpr char kUserPin[] = "bench-user-pin-1";
const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

SecretBytes Pin(const char* p) { return SecretBytes(std::string_view(p), SecretAccess::Get()); }

double NowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Vault: one embedded backend on its own vault, a token with a user PIN.
struct Vault {
  std::unique_ptr<Backend> backend;
  certvault::SlotId slot = 0;
};

std::unique_ptr<Vault> MakeVault(const std::string& dir, bool event_log, bool fast_kdf) {
  std::filesystem::create_directories(dir);
  std::ofstream conf(dir + "/certvault.conf");
  conf << "[vault]\n";
  if (fast_kdf) conf << "kdf_memory_kib = 64\nkdf_iterations = 1\n";
  conf.close();
  certvault::BackendOptions options;
  options.vault_dir = dir + "/vault";
  options.config_path = dir + "/certvault.conf";
  options.create_vault = true;
  options.event_log = event_log;
  auto b = certvault::OpenEmbeddedBackend(options);
  if (!b.ok()) return nullptr;
  auto v = std::make_unique<Vault>();
  v->backend = std::move(*b);
  auto slots = v->backend->GetSlotList(true);
  if (!slots.ok() || slots->empty()) return nullptr;
  v->slot = slots->back();
  if (!v->backend->InitToken(v->slot, Pin(kSoPin), "bench").ok()) return nullptr;
  auto so = v->backend->OpenSession(v->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!so.ok() || !v->backend->Login(*so, certvault::UserType::kSo, Pin(kSoPin)).ok() ||
      !v->backend->InitPin(*so, Pin(kUserPin)).ok() || !v->backend->CloseSession(*so).ok()) {
    return nullptr;
  }
  return v;
}

// LoginMs: mean ms of C_Login(user) + C_Logout over `n`.
double LoginMs(Vault& v, int n) {
  auto s = v.backend->OpenSession(v.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!s.ok()) return -1;
  double t0 = NowMs();
  for (int i = 0; i < n; ++i) {
    if (!v.backend->Login(*s, certvault::UserType::kUser, Pin(kUserPin)).ok()) return -1;
    (void)v.backend->Logout(*s);
  }
  double ms = (NowMs() - t0) / n;
  (void)v.backend->CloseSession(*s);
  return ms;
}

// KeygenMs: mean ms of C_GenerateKeyPair (P-256, token objects) over `n`.
double KeygenMs(Vault& v, int n) {
  auto s = v.backend->OpenSession(v.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!s.ok() || !v.backend->Login(*s, certvault::UserType::kUser, Pin(kUserPin)).ok()) return -1;
  certvault::AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetString(CKA_LABEL, "bench");
  double t0 = NowMs();
  for (int i = 0; i < n; ++i) {
    if (!v.backend->GenerateKeyPair(*s, certvault::Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv).ok()) return -1;
  }
  double ms = (NowMs() - t0) / n;
  (void)v.backend->CloseSession(*s);
  return ms;
}

struct Row {
  const char* name;
  std::function<double(Vault&)> run;
  bool fast_kdf;
  std::vector<double> off, on;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, n = 20;
  std::string work = ".";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) rounds = 1, n = 2;
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    if (std::strcmp(argv[i], "--n") == 0 && i + 1 < argc) n = std::max(1, std::atoi(argv[++i]));
    if (std::strcmp(argv[i], "--work") == 0 && i + 1 < argc) work = argv[++i];
  }
  const std::string dir = work + "/cv-event-log-bench." + std::to_string(getpid());
  std::vector<Row> rows = {
      {"C_Login + C_Logout, default KDF", [n](Vault& v) { return LoginMs(v, std::max(1, n / 4)); }, false, {}, {}},
      {"C_Login + C_Logout, cheap KDF", [n](Vault& v) { return LoginMs(v, n); }, true, {}, {}},
      {"C_GenerateKeyPair P-256 (token)", [n](Vault& v) { return KeygenMs(v, n); }, true, {}, {}},
  };
  std::unique_ptr<Vault> vaults[2][2];  // [fast_kdf][event_log]
  for (int kdf = 0; kdf < 2; ++kdf) {
    for (int log = 0; log < 2; ++log) {
      vaults[kdf][log] = MakeVault(dir + "/" + std::to_string(kdf) + std::to_string(log), log == 1, kdf == 1);
      if (vaults[kdf][log] == nullptr) {
        std::fprintf(stderr, "cannot set up a vault in %s\n", dir.c_str());
        std::filesystem::remove_all(dir);
        return 1;
      }
    }
  }
  for (int r = 0; r < rounds; ++r) {
    for (Row& row : rows) {
      row.off.push_back(row.run(*vaults[row.fast_kdf][0]));
      row.on.push_back(row.run(*vaults[row.fast_kdf][1]));
    }
  }
  std::printf("%-34s %12s %12s %10s   (median of %d rounds, ms per operation)\n", "operation", "log off", "log on",
              "on/off", rounds);
  for (const Row& row : rows) {
    double off = Median(row.off), on = Median(row.on);
    std::printf("%-34s %12.3f %12.3f %10.2f\n", row.name, off, on, off > 0 ? on / off : 0.0);
  }
  for (auto& k : vaults) {
    for (auto& v : k) v.reset();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
