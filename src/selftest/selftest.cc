// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/selftest/selftest.h"

#include <openssl/crypto.h>

#include <chrono>

#include "src/crypto/ossl_error.h"
#include "src/selftest/internal.h"

namespace certvault::selftest {
namespace {

struct Test {
  const char* name;
  Status (*run)();
};

// The power-on tests, cheapest first. The integrity check runs first of all:
// testing algorithms inside a modified binary proves nothing.
constexpr Test kTests[] = {
    {"integrity", internal::IntegrityCheck},  {"drbg", internal::DrbgHealth},
    {"sha256", internal::KatSha256},          {"sha384", internal::KatSha384},
    {"hmac-sha256", internal::KatHmacSha256}, {"aes-gcm", internal::KatAesGcm},
    {"ecdsa-p256", internal::KatEcdsaP256},   {"ecdsa-p384", internal::KatEcdsaP384},
    {"ed25519", internal::KatEd25519},        {"rsa-pss", internal::KatRsaPss},
    {"argon2id", internal::KatArgon2id},
};

TestResult RunOne(const Test& test) {
  auto start = std::chrono::steady_clock::now();
  TestResult result{test.name, Status(), 0};
  try {
    result.status = test.run();
  } catch (...) {  // e.g. bad_alloc: a test that cannot run has failed
    result.status = internal::Failed(test.name, "exception");
  }
  result.millis = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

std::vector<std::string> TestNames() {
  std::vector<std::string> names;
  for (const Test& test : kTests) names.emplace_back(test.name);
  names.emplace_back("pct");  // run on every generated or imported key pair (pct.h)
  return names;
}

std::vector<TestResult> RunAllTests() {
  std::vector<TestResult> results;
  for (const Test& test : kTests) results.push_back(RunOne(test));
  return results;
}

Status RunPowerOnSelfTests() {
  if (InErrorState()) return ErrorStateStatus();
  for (const Test& test : kTests) {
    TestResult result = RunOne(test);
    if (!result.status.ok()) {
      EnterErrorState(result.name);
      return ErrorStateStatus();
    }
  }
  return OkStatus();
}

namespace internal {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto nibble = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
    return 0;
  };
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

void MaybeCorrupt(std::string_view test, std::span<uint8_t> data) {
  if (!data.empty() && FaultInjected(test)) data[0] ^= 0x01;
}

Status Equal(std::string_view test, std::span<const uint8_t> got, std::span<const uint8_t> want) {
  if (got.size() != want.size() || CRYPTO_memcmp(got.data(), want.data(), got.size()) != 0) {
    return Failed(test, "output differs from the known answer");
  }
  return OkStatus();
}

Status Failed(std::string_view test, std::string_view what) {
  return Status(Reason::kDeviceError, std::string("self-test ").append(test).append(": ").append(what));
}

}  // namespace internal
}  // namespace certvault::selftest
