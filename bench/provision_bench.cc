// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-provision-bench (issue 14 targets, docs/design/provisioning.md):
//  1. packages/s: device key generation + UpdateContent + AuthEnvelopedData
//     + SignedData by a software authority, on --threads threads (target with
//     issuance excluded: >= 2,000/s on 2 cores; issuance has certvault-ca-bench);
//  2. apply-update: C_Login (the vault's configured Argon2id) + ApplyUpdate +
//     C_Logout per package, embedded backend (target <= 100 ms).
// --quick: a few iterations, a smoke run with no timing claims.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "src/core/backend.h"
#include "src/provision/provision.h"
#include "src/provision/test_util.h"

namespace {

using namespace certvault;                       // NOLINT(build/namespaces)
using namespace certvault::provision::testing;  // NOLINT(build/namespaces)
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

provision::PackageContent Content(EVP_PKEY* authority_key, X509* authority) {
  ossl::UniquePtr<EVP_PKEY> device = NewP256();
  provision::PackageContent c;
  c.label = "bench";
  c.private_keys.push_back(Pkcs8(device.get()));
  c.certificates.push_back(CertDer(MakeCert(device.get(), "dev", authority_key, authority).get()));
  return c;
}

void PackageRate(int threads, int per_thread) {
  ossl::UniquePtr<EVP_PKEY> ak = NewP256(), ik = NewP256(), tk = NewP256();
  ossl::UniquePtr<X509> a = MakeCert(ak.get(), "authority"), id = MakeCert(ik.get(), "identity");
  Bytes transport = CertDer(MakeCert(tk.get(), "transport", ik.get(), id.get()).get());
  Bytes cert = Content(ak.get(), a.get()).certificates[0];
  std::atomic<int> failed{0};
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        ossl::UniquePtr<EVP_PKEY> device = NewP256();  // the CA's per-device key generation
        provision::PackageContent c;
        c.label = "bench";
        c.private_keys.push_back(Pkcs8(device.get()));
        c.certificates.push_back(cert);
        provision::PackageHeader h{"0123456789abcdef", 1, Bytes(32, 1), time(nullptr) + 3600};
        if (!provision::BuildUpdatePackage(h, c, transport, {ak.get(), a.get(), nullptr}).ok()) ++failed;
      }
    });
  }
  for (std::thread& t : pool) t.join();
  double s = Seconds(t0);
  std::printf("package build: %d packages on %d threads in %.3f s = %.0f packages/s%s\n", threads * per_thread, threads,
              s, threads * per_thread / s, failed ? " (FAILURES)" : "");
}

int ApplyLatency(const std::string& work, int n) {
  BackendOptions o;
  o.vault_dir = work + "/vault";
  o.create_vault = true;
  auto b = OpenEmbeddedBackend(o);
  if (!b.ok()) return 1;
  Backend& be = **b;
  SecretBytes so("bench-so-pin", SecretAccess::Get()), pin("bench-pin", SecretAccess::Get());
  SlotId slot = be.GetSlotList(true)->back();
  if (!be.InitToken(slot, so, "bench").ok()) return 1;
  SessionHandle s = *be.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!be.Login(s, UserType::kSo, so).ok() || !be.InitPin(s, pin).ok() || !be.Logout(s).ok()) return 1;
  if (!be.Login(s, UserType::kUser, pin).ok() || !be.CreateVaultKeys(s).ok()) return 1;
  ossl::UniquePtr<EVP_PKEY> ak = NewP256();
  ossl::UniquePtr<X509> a = MakeCert(ak.get(), "authority");
  if (!be.PinAuthority(s, CertDer(a.get())).ok()) return 1;
  double worst = 0, total = 0;
  for (int i = 0; i < n; ++i) {
    auto req = provision::VerifyUpdateRequest(*be.UpdateRequest(s, "bench"), nullptr);
    provision::PackageHeader h{req->request.token_serial, req->request.counter + 1, req->request.nonce,
                               time(nullptr) + 3600};
    Bytes pkg = *provision::BuildUpdatePackage(h, Content(ak.get(), a.get()), req->request.transport_cert,
                                               {ak.get(), a.get(), nullptr});
    if (!be.Logout(s).ok()) return 1;
    auto t0 = Clock::now();
    bool ok = be.Login(s, UserType::kUser, pin).ok() && be.ApplyUpdate(s, pkg).ok();
    double ms = Seconds(t0) * 1000;
    if (!ok) return 1;
    worst = std::max(worst, ms);
    total += ms;
  }
  std::printf("apply-update (login + apply): %d packages, mean %.1f ms, worst %.1f ms\n", n, total / n, worst);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (!provision::GetNids().ok()) return 1;
  PackageRate(2, quick ? 5 : 2000);
  char tmpl[] = "/tmp/cv-provbench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  std::string work = tmpl;
  if (quick) std::ofstream(work + "/certvault.conf") << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
  if (quick) setenv("CERTVAULT_CONF", (work + "/certvault.conf").c_str(), 1);
  int rc = ApplyLatency(work, quick ? 2 : 20);
  std::filesystem::remove_all(work);
  return rc;
}
