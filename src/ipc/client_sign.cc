// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonBackend: signing, in one round trip per signature where it can be.
//
// A C_SignInit costs a round trip only to learn its result. When the session
// signed with the same key and mechanism (one without parameters) moments
// ago, and the daemon said that SignInit held with nothing changing (its
// StateGeneration), the SignInit is answered here and sent with the next
// C_Sign (kSignInitSign); the daemon runs both. Whatever this application
// does that could change the outcome (login, logout, destroy, set attributes,
// close) first sends the pending SignInit (BeforeChange), so the daemon sees
// the calls in the application's order. Only a change by another application
// within kAnswerWindow before C_SignInit shows differently: C_Sign then fails
// with kFunctionFailed (the daemon's LateInitError) instead of C_SignInit
// failing.
#include <variant>

#include "src/base/status_macros.h"
#include "src/ipc/daemon_backend.h"

namespace certvault::ipc {
namespace {

using Clock = std::chrono::steady_clock;
// How long a SignInit the daemon confirmed may be answered here.
constexpr std::chrono::milliseconds kAnswerWindow{100};

bool NoParams(const Mechanism& mech) { return std::holds_alternative<std::monostate>(mech.params); }

}  // namespace

std::optional<Status> DaemonBackend::AnswerSignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  if (!SessionCurrent(session)) return std::nullopt;  // the daemon gives the error
  std::lock_guard<std::mutex> lock(sign_mu_);
  auto it = sign_.find(session);
  if (it == sign_.end()) return std::nullopt;
  SignState& st = it->second;
  if (st.pending) return Status(Reason::kOperationActive, "a sign operation is active in this session");
  if (!st.idle || !st.repeatable || st.key != key || st.mech != mech.type || !NoParams(mech) ||
      Clock::now() - st.confirmed_at > kAnswerWindow) {
    return std::nullopt;
  }
  st.pending = true;
  st.idle = false;
  return OkStatus();
}

std::optional<DaemonBackend::PendingInit> DaemonBackend::TakePending(SessionHandle session) {
  std::lock_guard<std::mutex> lock(sign_mu_);
  auto it = sign_.find(session);
  if (it == sign_.end() || !it->second.pending) return std::nullopt;
  it->second.pending = false;
  return PendingInit{session, it->second.mech, it->second.key};
}

Status DaemonBackend::SignInitCall(SessionHandle session, const Mechanism& mech, ObjectHandle key, bool late,
                                   bool* repeatable) {
  return Call(
      {Op::kSignInitGen, session}, [&](Encoder& e) { PutAll(e, mech, key, late); },
      [repeatable](Decoder& d, const Status&) { return Get(d, repeatable); });
}

Status DaemonBackend::SignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) {
  if (std::optional<Status> answered = AnswerSignInit(session, mech, key)) return *answered;
  bool repeatable = false;
  Status s = SignInitCall(session, mech, key, false, &repeatable);
  if (!SessionCurrent(session)) return s;  // the connection broke meanwhile: nothing to remember
  std::lock_guard<std::mutex> lock(sign_mu_);
  if (!s.ok()) {  // no operation started
    sign_.erase(session);
    return s;
  }
  sign_[session] = SignState{false, false, mech.type, key, repeatable && NoParams(mech), Clock::now()};
  return s;
}

void DaemonBackend::AfterSign(SessionHandle session, const Status& s, const OutBuf& out, bool with_init,
                              bool repeatable) {
  // §5.2: a length query or kBufferTooSmall leaves the operation active.
  const bool ended = !(s.ok() && out.data == nullptr) && s.reason() != Reason::kBufferTooSmall;
  std::lock_guard<std::mutex> lock(sign_mu_);
  auto it = sign_.find(session);
  if (it == sign_.end()) return;  // not a session we know (or the application was reset)
  it->second.idle = ended;
  if (!with_init) return;
  it->second.repeatable = repeatable;
  it->second.confirmed_at = Clock::now();
}

Status DaemonBackend::Sign(SessionHandle session, std::span<const uint8_t> in, OutBuf out) {
  std::optional<PendingInit> p = TakePending(session);
  if (!p) {
    Status s = OutCall(Op::kSign, session, {}, in, true, out);
    AfterSign(session, s, out, false, false);
    return s;
  }
  WireBuffer fields;
  Encoder fe(&fields);
  PutAll(fe, Mechanism{p->mech, {}}, p->key);
  bool repeatable = false;
  Status s = OutCall(Op::kSignInitSign, session, fields, in, true, out, &repeatable);
  AfterSign(session, s, out, true, repeatable);
  return s;
}

Status DaemonBackend::FlushPending(SessionHandle session) {
  std::optional<PendingInit> p = TakePending(session);
  if (!p) return OkStatus();
  bool repeatable = false;
  return SignInitCall(session, Mechanism{p->mech, {}}, p->key, true, &repeatable);
}

void DaemonBackend::BeforeChange() {
  std::vector<PendingInit> pending;
  {
    std::lock_guard<std::mutex> lock(sign_mu_);
    for (const auto& [session, st] : sign_) {
      if (st.pending) pending.push_back(PendingInit{session, st.mech, st.key});
    }
    sign_.clear();  // the change may make any SignInit come out differently
  }
  // A failure shows at the operation's next call, as kOperationNotInitialized.
  bool repeatable = false;
  for (const PendingInit& p : pending) (void)SignInitCall(p.session, Mechanism{p.mech, {}}, p.key, true, &repeatable);
}

Status DaemonBackend::SignUpdate(SessionHandle session, std::span<const uint8_t> in) {
  CV_RETURN_IF_ERROR(FlushPending(session));
  {
    std::lock_guard<std::mutex> lock(sign_mu_);
    sign_.erase(session);  // multi-part operations are not answered here
  }
  return DataCall(Op::kSignUpdate, session, in, true);
}

Status DaemonBackend::SignFinal(SessionHandle session, OutBuf out) {
  CV_RETURN_IF_ERROR(FlushPending(session));
  return OutCall(Op::kSignFinal, session, {}, {}, false, out);
}

}  // namespace certvault::ipc
