// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/module.h"

#include <pthread.h>
#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <type_traits>
#include <utility>

#include "src/pkcs11/ckrv.h"

namespace certvault::pkcs11 {
namespace {

// State: one initialization. Heap-allocated and reached through a raw
// pointer so that no static destructor ever runs at exit or dlclose.
struct State {
  std::unique_ptr<Backend> backend;
  uint64_t fork_generation = 0;  // g_fork_generation when initialized
};

// All constant-initialized with trivial destructors.
static_assert(std::is_trivially_destructible_v<std::mutex>, "no static destructors in the module");
std::mutex g_mu;                           // serializes C_Initialize / C_Finalize only
std::atomic<State*> g_state{nullptr};      // written under g_mu, read lock-free by every call
std::atomic<uint64_t> g_fork_generation{0};  // bumped in every forked child
std::once_flag g_atfork_once;

// The fork handlers hold g_mu across fork() so that the child never inherits
// it locked by a thread that does not exist there; the child also moves to a
// new generation, which makes the parent's state invisible in it. (A system
// call such as getpid() on every C_* call would cost more than the check.)
void PrepareFork() { g_mu.lock(); }
void ReleaseInParent() { g_mu.unlock(); }
void ReleaseInChild() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  g_mu.unlock();
}

// LiveState: the state of this process, or nullptr.
State* LiveState() {
  State* state = g_state.load(std::memory_order_acquire);
  if (state == nullptr || state->fork_generation != g_fork_generation.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  return state;
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
  std::call_once(g_atfork_once, [] { pthread_atfork(PrepareFork, ReleaseInParent, ReleaseInChild); });
  std::lock_guard<std::mutex> lock(g_mu);
  if (LiveState() != nullptr) return CKR_CRYPTOKI_ALREADY_INITIALIZED;
  // In a forked child, g_state (if any) is the parent's: leaked on purpose.
  Result<std::unique_ptr<Backend>> backend = OpenBackendFromEnvironment();
  if (!backend.ok()) {
    // The reason goes to syslog, never to stderr (e.g. a configuration
    // that contradicts policy.toml; docs/design/policy.md).
    std::string why = backend.status().ToString();
    syslog(LOG_ERR | LOG_USER, "certvault: C_Initialize: %s", why.c_str());
    return ToCkRv(backend.status());
  }
  g_state.store(new State{std::move(*backend), g_fork_generation.load(std::memory_order_relaxed)},
                std::memory_order_release);
  return CKR_OK;
}

Status FinalizeModule(CK_VOID_PTR pReserved) {
  // §5.4 C_Finalize: "pReserved is reserved for future use. ... should be NULL_PTR".
  if (pReserved != nullptr) return Status(Reason::kArgumentsBad, "pReserved must be NULL");
  std::lock_guard<std::mutex> lock(g_mu);
  State* state = LiveState();
  if (state == nullptr) return Status(Reason::kNotInitialized);
  g_state.store(nullptr, std::memory_order_release);
  // §5.4: "The behavior of C_Finalize is nevertheless undefined if it is
  // called by an application while other threads of the application are
  // making Cryptoki calls": no call can still be using the backend.
  delete state;
  return OkStatus();
}

bool IsInitialized() { return LiveState() != nullptr; }

Result<Backend*> CurrentBackend() {
  State* state = LiveState();
  if (state == nullptr) return Status(Reason::kNotInitialized);
  return state->backend.get();
}

}  // namespace certvault::pkcs11
