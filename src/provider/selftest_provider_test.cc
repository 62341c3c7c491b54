// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The provider's self-test error state, on a test-only build with fault
// injection compiled in (certvault-provider-faults, never installed): a
// failed power-on test fails OSSL_provider_init, with the reason raised.
// Each case runs in a forked child (the error state is per process).
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace {

// LoadsWith: in a child, whether the provider loads with `fault` injected
// (nullptr: none). 0 = loaded, 1 = refused with a self-test error, else other.
int LoadsWith(const char* fault) {
  pid_t pid = fork();
  if (pid == 0) {
    if (fault != nullptr) setenv("CERTVAULT_SELFTEST_FAULT", fault, 1);
    OSSL_LIB_CTX* ctx = OSSL_LIB_CTX_new();
    OSSL_PROVIDER* prov = OSSL_PROVIDER_load(ctx, CV_PROVIDER_FAULT_MODULE_PATH);
    if (prov != nullptr) _exit(0);
    unsigned long e = 0;
    bool self_test = false;
    const char* data = nullptr;
    int flags = 0;
    while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
      if (data != nullptr && std::strstr(data, "self-test") != nullptr) self_test = true;
    }
    _exit(self_test ? 1 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

TEST(ProviderSelfTest, LoadsWithoutFault) { EXPECT_EQ(LoadsWith(nullptr), 0); }

TEST(ProviderSelfTest, EachFailedPowerOnTestFailsTheLoad) {
  for (const char* name : {"integrity", "drbg", "sha256", "sha384", "hmac-sha256", "aes-gcm", "ecdsa-p256",
                           "ecdsa-p384", "ed25519", "rsa-pss", "argon2id"}) {
    EXPECT_EQ(LoadsWith(name), 1) << name;
  }
}

}  // namespace
