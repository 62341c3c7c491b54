// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/provider/vault.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "src/base/status_macros.h"
#include "src/core/config.h"
#include "src/ipc/open_backend.h"
#include "src/provider/backend_open.h"
#include "src/provider/vault_state.h"

namespace certvault::provider {
namespace {

std::atomic<uint64_t> g_generation{0};  // bumped in every forked child
std::mutex g_fork_mu;                   // held across fork(): no lock is inherited locked
// Every live Vault's mu_ is held across fork() too (registry leaked on purpose:
// no static destructor may run while another thread still uses it).
std::set<std::mutex*>& ForkLocks() {
  static auto* locks = new std::set<std::mutex*>();  // GUARDED_BY(g_fork_mu)
  return *locks;
}

void PrepareFork() {
  g_fork_mu.lock();
  for (std::mutex* m : ForkLocks()) m->lock();
}
void ParentAfterFork() {
  for (std::mutex* m : ForkLocks()) m->unlock();
  g_fork_mu.unlock();
}
void ChildAfterFork() {
  g_generation.fetch_add(1, std::memory_order_relaxed);
  ParentAfterFork();
}

std::string VaultDisplay(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* home = std::getenv("CERTVAULT_HOME");
  return home != nullptr && *home != '\0' ? std::string(home) : std::string("the default vault");
}

std::string ResolveSocket(const std::string& vault_dir, std::string socket) {
  if (!socket.empty()) return socket;
  BackendOptions options;
  options.vault_dir = vault_dir;
  Result<std::string> chosen = DaemonSocketFor(options);
  return chosen.ok() ? *chosen : std::string();  // a bad config file shows again at open
}

bool Matches(const std::optional<std::string>& want, const std::string& have) { return !want || *want == have; }

}  // namespace

// The directory and the daemon socket are resolved once, at load: services
// (nginx) clear the environment of the workers they fork, which must keep
// using the same vault.
Vault::Vault(std::string vault_dir, std::string socket, OSSL_LIB_CTX* libctx)
    : vault_dir_(core::ResolveVaultDir(vault_dir).ok() ? *core::ResolveVaultDir(vault_dir) : vault_dir),
      socket_(ResolveSocket(vault_dir_, std::move(socket))),
      libctx_(libctx) {
  std::lock_guard<std::mutex> lock(g_fork_mu);
  ForkLocks().insert(&mu_);
}

Vault::~Vault() {
  {
    std::lock_guard<std::mutex> lock(g_fork_mu);
    ForkLocks().erase(&mu_);
  }
  State* state = state_.exchange(nullptr);
  if (state != nullptr && state->generation == g_generation.load()) delete state;
  // A parent's state in a forked child is leaked: closing its handles could disturb the parent.
}

void Vault::RegisterForkHandlers() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(PrepareFork, ParentAfterFork, ChildAfterFork); });
}

Result<Vault::State*> Vault::CurrentState() {
  uint64_t gen = g_generation.load(std::memory_order_relaxed);
  State* state = state_.load(std::memory_order_acquire);
  if (state != nullptr && state->generation == gen) return state;
  std::lock_guard<std::mutex> lock(mu_);
  state = state_.load(std::memory_order_acquire);
  if (state != nullptr && state->generation == gen) return state;
  auto backend = OpenProviderBackend(vault_dir_, socket_);
  Status vault_status = backend.ok() ? (*backend)->VaultStatus() : backend.status();
  if (!vault_status.ok()) {
    std::string where = socket_.empty() ? VaultDisplay(vault_dir_) : "certvaultd " + socket_;
    std::string msg = "cannot open the vault at " + where + " (uid " + std::to_string(getuid()) +
                      "): " + std::string(vault_status.message());
    if (vault_status.code() == StatusCode::kPermissionDenied || vault_status.code() == StatusCode::kUnavailable) {
      msg += "; the service user needs read and write access to the vault directory and its files";
    }
    return Status(vault_status.code(), vault_status.reason(), msg);
  }
  auto fresh = std::make_unique<State>();
  fresh->backend = std::move(*backend);
  fresh->generation = gen;
  // The previous state is deleted only within its own process's generation.
  State* old = state_.exchange(fresh.release(), std::memory_order_acq_rel);
  (void)old;  // another generation's state (parent's) is leaked on purpose
  return state_.load(std::memory_order_acquire);
}

Result<Vault::Lease> Vault::Acquire(SlotId slot) {
  CV_ASSIGN_OR_RETURN(State * state, CurrentState());
  {
    std::lock_guard<std::mutex> lock(state->mu);
    auto& idle = state->idle[slot];
    if (!idle.empty()) {
      SessionHandle s = idle.back();
      idle.pop_back();
      return Lease(state, slot, s);
    }
  }
  CV_ASSIGN_OR_RETURN(SessionHandle s, state->backend->OpenSession(slot, CKF_SERIAL_SESSION));
  return Lease(state, slot, s);
}

Status Vault::LoginLocked(State* state, SlotId slot, const PinSource& pin) {
  if (state->logged_in.count(slot) != 0) return OkStatus();
  std::optional<SecretBytes> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = pins_.find(slot);
    if (it != pins_.end()) known = it->second.Clone();
  }
  if (!known.has_value()) {
    if (!pin) return Status(StatusCode::kUnauthenticated, Reason::kUserNotLoggedIn, "a PIN is required for the key");
    CV_ASSIGN_OR_RETURN(SecretBytes given, pin());
    known = std::move(given);
  }
  CV_ASSIGN_OR_RETURN(SessionHandle s, state->backend->OpenSession(slot, CKF_SERIAL_SESSION));
  Status st = state->backend->Login(s, UserType::kUser, *known);
  state->idle[slot].push_back(s);
  if (!st.ok() && st.reason() != Reason::kUserAlreadyLoggedIn) {
    // A kept PIN that stopped working (changed since) is dropped: later forked
    // workers must not spend the vault's retry counter on it one by one.
    std::lock_guard<std::mutex> lock(mu_);
    pins_.erase(slot);
    return st;
  }
  state->logged_in.insert(slot);
  std::lock_guard<std::mutex> lock(mu_);
  pins_.insert_or_assign(slot, std::move(*known));
  return OkStatus();
}

Status Vault::EnsureLogin(SlotId slot, const PinSource& pin) {
  CV_ASSIGN_OR_RETURN(State * state, CurrentState());
  std::lock_guard<std::mutex> lock(state->mu);
  return LoginLocked(state, slot, pin);
}

Result<std::vector<SlotId>> Vault::MatchTokens(State* state, const Pkcs11Uri& uri) {
  CV_ASSIGN_OR_RETURN(std::vector<SlotId> slots, state->backend->GetSlotList(true));
  std::vector<SlotId> out;
  for (SlotId slot : slots) {
    Result<TokenInfo> info = state->backend->GetTokenInfo(slot);
    if (!info.ok() || (info->flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    if (Matches(uri.token, info->label) && Matches(uri.manufacturer, info->manufacturer) &&
        Matches(uri.serial, info->serial) && Matches(uri.model, info->model)) {
      out.push_back(slot);
    }
  }
  if (out.empty()) return NotFoundError("no token in the vault matches the URI");
  return out;
}

}  // namespace certvault::provider
