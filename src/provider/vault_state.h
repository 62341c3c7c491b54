// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Vault internals shared by vault.cc and vault_ops.cc: the per-generation
// state and the session lease.
#ifndef CERTVAULT_PROVIDER_VAULT_STATE_H_
#define CERTVAULT_PROVIDER_VAULT_STATE_H_

#include "src/provider/vault.h"

namespace certvault::provider {

struct Vault::State {
  std::unique_ptr<Backend> backend;
  uint64_t generation = 0;
  std::mutex mu;
  std::map<SlotId, std::vector<SessionHandle>> idle;  // GUARDED_BY(mu)
  std::set<SlotId> logged_in;                         // GUARDED_BY(mu)
};

// Lease: one session taken from the pool, returned on destruction unless
// the session turned out to be unusable (Discard()).
class Vault::Lease {
 public:
  Lease(State* state, SlotId slot, SessionHandle session) : state_(state), slot_(slot), session_(session) {}
  Lease(Lease&& o) noexcept : state_(o.state_), slot_(o.slot_), session_(o.session_) { o.state_ = nullptr; }
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (state_ == nullptr) return;
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->idle[slot_].push_back(session_);
  }
  void Discard() {
    if (state_ != nullptr) (void)state_->backend->CloseSession(session_);
    state_ = nullptr;
  }
  Backend& backend() { return *state_->backend; }
  SessionHandle session() const { return session_; }

 private:
  State* state_;
  SlotId slot_;
  SessionHandle session_;
};

}  // namespace certvault::provider

#endif  // CERTVAULT_PROVIDER_VAULT_STATE_H_
