// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/module.h"

#include <pthread.h>
#include <unistd.h>

#include <mutex>
#include <type_traits>
#include <utility>

#include "src/pkcs11/ckrv.h"

namespace certvault::pkcs11 {
namespace {

// State: one initialization. Heap-allocated and reached through a raw
// pointer so that no static destructor ever runs at exit or dlclose.
struct State {
  std::shared_ptr<Backend> backend;
  pid_t pid = 0;
};

// Both are constant-initialized with trivial destructors.
static_assert(std::is_trivially_destructible_v<std::mutex>, "no static destructors in the module");
std::mutex g_mu;
State* g_state = nullptr;  // guarded by g_mu
std::once_flag g_atfork_once;

// The fork handlers hold g_mu across fork() so that the child never inherits
// it locked by a thread that does not exist there.
void PrepareFork() { g_mu.lock(); }
void ReleaseAfterFork() { g_mu.unlock(); }

// LiveState: the state of this process, or nullptr. REQUIRES: g_mu held.
State* LiveState() {
  if (g_state == nullptr || g_state->pid != getpid()) return nullptr;
  return g_state;
}

}  // namespace

CK_RV ValidateInitArgs(const CK_C_INITIALIZE_ARGS* args) {
  if (args == nullptr) return CKR_OK;
  // §5.4: "pReserved: reserved for future use. Should be NULL_PTR".
  if (args->pReserved != nullptr) return CKR_ARGUMENTS_BAD;
  int given = (args->CreateMutex != nullptr) + (args->DestroyMutex != nullptr) + (args->LockMutex != nullptr) +
              (args->UnlockMutex != nullptr);
  // §5.4: "If some, but not all, of the supplied function pointers to
  // C_Initialize are non-NULL_PTR, then C_Initialize should return with the
  // value CKR_ARGUMENTS_BAD."
  if (given != 0 && given != 4) return CKR_ARGUMENTS_BAD;
  // Case 3 of §5.4: callbacks without CKF_OS_LOCKING_OK mean "use only these";
  // the backend locks natively, so it cannot honour that.
  if (given == 4 && (args->flags & CKF_OS_LOCKING_OK) == 0) return CKR_CANT_LOCK;
  return CKR_OK;
}

CK_RV InitializeModule(CK_VOID_PTR pInitArgs) {
  CK_RV rv = ValidateInitArgs(static_cast<const CK_C_INITIALIZE_ARGS*>(pInitArgs));
  if (rv != CKR_OK) return rv;
  std::call_once(g_atfork_once, [] { pthread_atfork(PrepareFork, ReleaseAfterFork, ReleaseAfterFork); });
  std::lock_guard<std::mutex> lock(g_mu);
  if (LiveState() != nullptr) return CKR_CRYPTOKI_ALREADY_INITIALIZED;
  // In a forked child, g_state (if any) is the parent's: leaked on purpose.
  g_state = nullptr;
  Result<std::unique_ptr<Backend>> backend = OpenBackendFromEnvironment();
  if (!backend.ok()) return ToCkRv(backend.status());
  g_state = new State{std::shared_ptr<Backend>(std::move(*backend)), getpid()};
  return CKR_OK;
}

Status FinalizeModule(CK_VOID_PTR pReserved) {
  // §5.4 C_Finalize: "pReserved is reserved for future use. ... should be NULL_PTR".
  if (pReserved != nullptr) return Status(Reason::kArgumentsBad, "pReserved must be NULL");
  std::shared_ptr<Backend> last;  // released after unlocking
  {
    std::lock_guard<std::mutex> lock(g_mu);
    State* state = LiveState();
    if (state == nullptr) return Status(Reason::kNotInitialized);
    last = std::move(state->backend);
    delete state;
    g_state = nullptr;
  }
  return OkStatus();
}

bool IsInitialized() {
  std::lock_guard<std::mutex> lock(g_mu);
  return LiveState() != nullptr;
}

Result<std::shared_ptr<Backend>> CurrentBackend() {
  std::lock_guard<std::mutex> lock(g_mu);
  State* state = LiveState();
  if (state == nullptr) return Status(Reason::kNotInitialized);
  return state->backend;
}

}  // namespace certvault::pkcs11
