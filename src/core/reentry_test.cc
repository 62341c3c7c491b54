// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Re-entrant calls: a call into the backend made from inside a backend call,
// on the same thread, while the outer call parses a key (engine::LoadKey).
// That is what a provider of the application did when certvault's key parsing
// ran in the application's OpenSSL context (pkcs11-provider opens a session
// and signs): the outer C_SignInit / C_DeriveKey held the token lock shared
// while the inner C_OpenSession wanted it exclusively, and waited forever.
// Each scenario runs in a child process; the parent waits up to a generous
// bound and reports a hang as a failure instead of hanging itself.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "src/core/backend.h"
#include "src/engine/load_hook.h"

namespace certvault {
namespace {

constexpr char kSoPin[] = "so-pin-1234";
constexpr char kUserPin[] = "user-pin-1234";
const uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

// Exit codes of the child: which step failed.
enum Step : int { kOk = 0, kSetup = 10, kSign = 11, kDerive = 12, kInner = 13 };

// Inner: the calls a provider makes from inside the module: a session of its
// own, a login, a search, a signature with the same key, and close.
struct Inner {
  Backend* backend = nullptr;
  SlotId slot = 0;
  ObjectHandle key = 0;
  int calls = 0;
  bool ok = true;
};

void CallBack(void* arg) {
  static thread_local bool inside = false;  // one level: the inner call loads the key too
  auto* in = static_cast<Inner*>(arg);
  if (inside) return;
  inside = true;
  ++in->calls;
  Result<SessionHandle> s = in->backend->OpenSession(in->slot, CKF_SERIAL_SESSION);
  // Login state is per application: the token is already logged in (that
  // answer needs the token lock too), then a search, then a signature.
  bool ok = s.ok() && in->backend->Login(*s, UserType::kUser, Pin(kUserPin)).reason() == Reason::kUserAlreadyLoggedIn &&
            in->backend->GetSessionInfo(*s).ok() && in->backend->FindObjectsInit(*s, AttributeSet()).ok() &&
            in->backend->FindObjects(*s, 10).ok() && in->backend->FindObjectsFinal(*s).ok() &&
            in->backend->SignInit(*s, Mechanism{CKM_ECDSA, {}}, in->key).ok();
  if (ok) {
    uint8_t digest[32] = {1}, sig[64];
    size_t len = sizeof(sig);
    ok = in->backend->Sign(*s, digest, OutBuf{sig, &len}).ok();
  }
  if (s.ok()) ok = in->backend->CloseSession(*s).ok() && ok;
  in->ok = in->ok && ok;
  inside = false;
}

Result<Backend::KeyPair> GenerateEc(Backend& b, SessionHandle s, AttributeType use) {
  AttributeSet pub, priv;
  pub.Set(CKA_EC_PARAMS, kP256);
  pub.SetBool(CKA_TOKEN, true);
  priv.SetBool(CKA_TOKEN, true);
  priv.SetBool(use, true);
  return b.GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
}

// Scenario: set-up, then a signature and an ECDH derive whose key loads call
// back into the backend. Returns a Step.
int Scenario(const std::string& dir) {
  const std::string conf = dir + "/certvault.conf";
  std::ofstream(conf) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
  BackendOptions options{.vault_dir = dir + "/vault", .config_path = conf, .create_vault = true};
  Result<std::unique_ptr<Backend>> opened = OpenEmbeddedBackend(options);
  if (!opened.ok()) return kSetup;
  Backend& b = **opened;
  Result<std::vector<SlotId>> slots = b.GetSlotList(true);
  if (!slots.ok() || slots->empty() || !b.InitToken(slots->back(), Pin(kSoPin), "reentry").ok()) return kSetup;
  SlotId slot = slots->back();
  Result<SessionHandle> s = b.OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
  if (!s.ok() || !b.Login(*s, UserType::kSo, Pin(kSoPin)).ok() || !b.InitPin(*s, Pin(kUserPin)).ok() ||
      !b.Logout(*s).ok() || !b.Login(*s, UserType::kUser, Pin(kUserPin)).ok()) {
    return kSetup;
  }
  Result<Backend::KeyPair> signer = GenerateEc(b, *s, CKA_SIGN);
  Result<Backend::KeyPair> deriver = GenerateEc(b, *s, CKA_DERIVE);
  std::vector<AttributeRequest> point(1);
  point[0].type = CKA_EC_POINT;
  if (!signer.ok() || !deriver.ok() || !b.GetAttributeValue(*s, deriver->public_key, &point).ok()) return kSetup;
  // Log out and in: the parsed-key cache is empty, so the next uses load.
  if (!b.Logout(*s).ok() || !b.Login(*s, UserType::kUser, Pin(kUserPin)).ok()) return kSetup;

  Inner inner{&b, slot, signer->private_key};
  engine::SetLoadKeyHookForTesting(CallBack, &inner);
  uint8_t digest[32] = {2}, sig[64];
  size_t len = sizeof(sig);
  if (!b.SignInit(*s, Mechanism{CKM_ECDSA, {}}, signer->private_key).ok() ||
      !b.Sign(*s, digest, OutBuf{sig, &len}).ok()) {
    return kSign;
  }
  Ecdh1DeriveParams ecdh;
  ecdh.kdf = CKD_NULL;
  ecdh.public_data = Bytes(point[0].value.begin(), point[0].value.end());
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_KEY_TYPE, CKK_GENERIC_SECRET);
  tmpl.SetUlong(CKA_VALUE_LEN, 32);
  if (!b.DeriveKey(*s, Mechanism{CKM_ECDH1_DERIVE, ecdh}, deriver->private_key, tmpl).ok()) return kDerive;
  engine::SetLoadKeyHookForTesting(nullptr, nullptr);
  return inner.ok && inner.calls >= 2 ? kOk : kInner;
}

TEST(ReentryTest, CallBackFromKeyLoadDoesNotDeadlock) {
  char tmpl[] = "/tmp/cv-reentry-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(Scenario(dir));
  // No machine-speed assumption: the scenario takes well under a second; ten
  // minutes only bounds a deadlock (sanitizer builds included).
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  pid_t done = 0;
  while ((done = waitpid(child, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    std::filesystem::remove_all(dir);
    FAIL() << "a re-entrant call deadlocked";
  }
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kOk) << "failed step " << WEXITSTATUS(status);
}

}  // namespace
}  // namespace certvault
