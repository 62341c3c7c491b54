// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/scenarios.h"

#include <array>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "bench/raw_openssl.h"
#include "src/base/status_macros.h"

namespace certvault::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// RatePerSec runs `op` (returning Status) at least once and until `seconds`
// have passed; returns operations per second or the first error.
template <typename Op>
Result<double> RatePerSec(double seconds, Op op) {
  const auto start = Clock::now();
  size_t n = 0;
  do {
    CV_RETURN_IF_ERROR(op());
    ++n;
  } while (SecondsSince(start) < seconds);
  return static_cast<double>(n) / SecondsSince(start);
}

// Session: closes the session on scope exit.
class Session {
 public:
  Session(P11Module& m, CK_SESSION_HANDLE h) : m_(m), h_(h) {}
  ~Session() { m_.fn()->C_CloseSession(h_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  CK_SESSION_HANDLE get() const { return h_; }

 private:
  P11Module& m_;
  CK_SESSION_HANDLE h_;
};

Result<std::unique_ptr<Session>> LoggedInSession(Target& t) {
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE h, t.module->OpenSession(t.slot, kUserPin));
  return std::make_unique<Session>(*t.module, h);
}

constexpr std::array<uint8_t, 32> kMessage = {
    0x5c, 0x1e, 0x7a, 0x33, 0x90, 0x0d, 0xe2, 0x41, 0x6b, 0x28, 0xf4, 0x17, 0x88, 0xa3, 0x02, 0x9e,
    0x4f, 0xd1, 0x36, 0xc0, 0x71, 0x5a, 0xbb, 0x13, 0x2e, 0x96, 0x07, 0xe8, 0x64, 0x3d, 0xaf, 0xc5};

// VmRssMib: this process's resident set size from /proc/self/status.
double VmRssMib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      in >> kib;
      return kib / 1024.0;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

Result<Target> SetUpTarget(std::string name, const std::string& path) {
  Target t;
  t.name = std::move(name);
  CV_ASSIGN_OR_RETURN(t.module, P11Module::Load(path));
  CV_ASSIGN_OR_RETURN(t.slot, t.module->InitToken("bench", kSoPin, kUserPin));
  return t;
}

Result<double> SignOpsPerSec(Target& t, KeyKind kind, double seconds) {
  const CK_MECHANISM_TYPE mech = SignMechanism(kind);
  if (!t.module->HasMechanism(t.slot, mech)) return UnimplementedError("mechanism not offered");
  CV_ASSIGN_OR_RETURN(auto session, LoggedInSession(t));
  CV_ASSIGN_OR_RETURN(KeyPair pair, t.module->GenerateKeyPair(session->get(), kind, true));
  std::vector<uint8_t> sig;
  return RatePerSec(seconds, [&] {
    return t.module->Sign(session->get(), mech, pair.priv, kMessage, sig);
  });
}

Result<double> RawOpsPerSec(KeyKind kind, double seconds) {
  CV_ASSIGN_OR_RETURN(RawSigner signer, RawSigner::Create(kind));
  std::vector<uint8_t> sig;
  return RatePerSec(seconds, [&] { return signer.SignOnce(kMessage, sig); });
}

Result<double> ThreadedSignOpsPerSec(Target& t, int threads, double seconds) {
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < threads; ++i) {
    CV_ASSIGN_OR_RETURN(auto s, LoggedInSession(t));
    sessions.push_back(std::move(s));
  }
  CV_ASSIGN_OR_RETURN(KeyPair pair,
                      t.module->GenerateKeyPair(sessions[0]->get(), KeyKind::kEcP256, true));
  std::vector<Result<double>> rates(threads, Result<double>(InternalError("not run")));
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      std::vector<uint8_t> sig;
      rates[i] = RatePerSec(seconds, [&] {
        return t.module->Sign(sessions[i]->get(), CKM_ECDSA, pair.priv, kMessage, sig);
      });
    });
  }
  for (auto& w : workers) w.join();
  double total = 0;
  for (auto& r : rates) {
    if (!r.ok()) return r.status();
    total += *r;
  }
  return total;
}

Result<FindResult> FindByLabel(Target& t, const std::string& prefix, size_t present,
                               size_t wanted, double populate_budget_s, double seconds) {
  CV_ASSIGN_OR_RETURN(auto session, LoggedInSession(t));
  FindResult result;
  result.objects = present;
  const double rss_before = VmRssMib();
  const auto start = Clock::now();
  while (result.objects < wanted && SecondsSince(start) < populate_budget_s) {
    const std::string label = prefix + "-" + std::to_string(result.objects);
    CV_RETURN_IF_ERROR(t.module->CreateDataObject(session->get(), label, true).status());
    ++result.objects;
  }
  if (result.objects == 0) return FailedPreconditionError("no objects to look up");
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, result.objects - 1);
  size_t lookups = 0;
  const auto lookup_start = Clock::now();
  do {
    CV_ASSIGN_OR_RETURN(size_t found, t.module->FindByLabel(
                                          session->get(), prefix + "-" + std::to_string(pick(rng))));
    if (found != 1) return DataLossError("lookup by label did not find exactly one object");
    ++lookups;
  } while (SecondsSince(lookup_start) < seconds);
  result.us_per_lookup = SecondsSince(lookup_start) * 1e6 / static_cast<double>(lookups);
  result.rss_growth_mib = VmRssMib() - rss_before;
  return result;
}

Result<double> DurableKeygenPerSec(Target& t, double seconds) {
  CV_ASSIGN_OR_RETURN(auto session, LoggedInSession(t));
  return RatePerSec(seconds, [&] {
    return t.module->GenerateKeyPair(session->get(), KeyKind::kEcP256, true).status();
  });
}

Result<double> CreateObjectPerSec(Target& t, double seconds) {
  CV_ASSIGN_OR_RETURN(auto session, LoggedInSession(t));
  size_t i = 0;
  return RatePerSec(seconds, [&] {
    return t.module->CreateDataObject(session->get(), "create-" + std::to_string(i++), true)
        .status();
  });
}

Result<double> LoginMs(Target& t, int reps) {
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE h, t.module->OpenSession(t.slot, ""));
  Session session(*t.module, h);
  auto* pin = reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(kUserPin.data()));
  double total_ms = 0;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    CV_RETURN_IF_ERROR(CheckRv(t.module->fn()->C_Login(h, CKU_USER, pin, kUserPin.size()), "C_Login"));
    total_ms += SecondsSince(start) * 1e3;
    CV_RETURN_IF_ERROR(CheckRv(t.module->fn()->C_Logout(h), "C_Logout"));
  }
  return total_ms / reps;
}

}  // namespace certvault::bench
