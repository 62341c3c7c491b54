// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonBackend (internal): see client.h for the contract. This header is
// shared by client_conn.cc (connections, the round trip) and
// client_calls.cc (one method per Backend call).
#ifndef CERTVAULT_IPC_DAEMON_BACKEND_H_
#define CERTVAULT_IPC_DAEMON_BACKEND_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "src/ipc/client.h"
#include "src/ipc/codec.h"
#include "src/ipc/socket_io.h"

namespace certvault::ipc {

// Session handles as the application sees them: the daemon's handle in the
// low 48 bits, the connection epoch (never 0) in the top 16.
inline constexpr int kEpochShift = 48;
inline constexpr uint64_t kLocalMask = (uint64_t{1} << kEpochShift) - 1;

class DaemonBackend final : public Backend {
 public:
  explicit DaemonBackend(ClientOptions options);
  ~DaemonBackend() override;
  DaemonBackend(const DaemonBackend&) = delete;
  DaemonBackend& operator=(const DaemonBackend&) = delete;

  Status Ping();

  Result<std::vector<SlotId>> GetSlotList(bool token_present) override;
  Result<SlotInfo> GetSlotInfo(SlotId slot) override;
  Result<TokenInfo> GetTokenInfo(SlotId slot) override;
  Result<std::vector<MechanismInfo>> GetMechanismList(SlotId slot) override;
  Result<MechanismInfo> GetMechanismInfo(SlotId slot, MechanismType type) override;
  Status InitToken(SlotId slot, const SecretBytes& so_pin, std::string_view label) override;
  Status InitTokenWithOptions(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                              const TokenOptions& options) override;
  Status InitPin(SessionHandle session, const SecretBytes& pin) override;
  Status SetPin(SessionHandle session, const SecretBytes& old_pin, const SecretBytes& new_pin) override;
  Result<SessionHandle> OpenSession(SlotId slot, uint64_t flags) override;
  Status CloseSession(SessionHandle session) override;
  Status CloseAllSessions(SlotId slot) override;
  Result<SessionInfo> GetSessionInfo(SessionHandle session) override;
  Status Login(SessionHandle session, UserType user, const SecretBytes& pin) override;
  Status Logout(SessionHandle session) override;
  Result<ObjectHandle> CreateObject(SessionHandle session, const AttributeSet& tmpl) override;
  Result<ObjectHandle> CopyObject(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) override;
  Status DestroyObject(SessionHandle session, ObjectHandle object) override;
  Result<ObjectHandle> ReplaceCertificate(SessionHandle session, ObjectHandle old, const AttributeSet& tmpl) override;
  Status DestroyProtectedObjects(SessionHandle session, const std::vector<ObjectHandle>& objects,
                                 const std::string& op_id) override;
  // QuorumApprovalTicket / QuorumStoreApproval (certvault extension, no
  // Backend call): certvaultd runs the vault side of a custodian's approval
  // (quorum::ApprovalTicket, quorum::StoreApproval) for `certvault quorum
  // approve` in daemon mode. The second returns (approvals so far, k).
  Result<Bytes> QuorumApprovalTicket(const std::string& op_id);
  Result<std::pair<uint32_t, uint32_t>> QuorumStoreApproval(const std::string& op_id,
                                                            std::span<const uint8_t> approval);
  Result<uint64_t> GetObjectSize(SessionHandle session, ObjectHandle object) override;
  Status GetAttributeValue(SessionHandle session, ObjectHandle object,
                           std::vector<AttributeRequest>* requests) override;
  Status SetAttributeValue(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) override;
  Status FindObjectsInit(SessionHandle session, const AttributeSet& tmpl) override;
  Result<std::vector<ObjectHandle>> FindObjects(SessionHandle session, size_t max) override;
  Status FindObjectsFinal(SessionHandle session) override;
  Status EncryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override;
  Status Encrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status EncryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status EncryptFinal(SessionHandle session, OutBuf out) override;
  Status DecryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override;
  Status Decrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status DecryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status DecryptFinal(SessionHandle session, OutBuf out) override;
  Status DigestInit(SessionHandle session, const Mechanism& mech) override;
  Status Digest(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status DigestUpdate(SessionHandle session, std::span<const uint8_t> in) override;
  Status DigestKey(SessionHandle session, ObjectHandle key) override;
  Status DigestFinal(SessionHandle session, OutBuf out) override;
  Status SignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override;
  Status Sign(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override;
  Status SignUpdate(SessionHandle session, std::span<const uint8_t> in) override;
  Status SignFinal(SessionHandle session, OutBuf out) override;
  Status VerifyInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override;
  Status Verify(SessionHandle session, std::span<const uint8_t> in, std::span<const uint8_t> sig) override;
  Status VerifyUpdate(SessionHandle session, std::span<const uint8_t> in) override;
  Status VerifyFinal(SessionHandle session, std::span<const uint8_t> sig) override;
  Status CancelOperation(SessionHandle session, OperationKind kind) override;
  Result<ObjectHandle> GenerateKey(SessionHandle session, const Mechanism& mech, const AttributeSet& tmpl) override;
  Result<KeyPair> GenerateKeyPair(SessionHandle session, const Mechanism& mech, const AttributeSet& public_tmpl,
                                  const AttributeSet& private_tmpl) override;
  Status WrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle wrapping_key, ObjectHandle key,
                 OutBuf out) override;
  Result<ObjectHandle> UnwrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle unwrapping_key,
                                 std::span<const uint8_t> wrapped, const AttributeSet& tmpl) override;
  Result<ObjectHandle> DeriveKey(SessionHandle session, const Mechanism& mech, ObjectHandle base_key,
                                 const AttributeSet& tmpl) override;
  Status VaultStatus() override;
  Status SeedRandom(SessionHandle session, std::span<const uint8_t> seed) override;
  Status GenerateRandom(SessionHandle session, std::span<uint8_t> out) override;

 private:
  struct Conn {
    Conn(uint32_t max_frame, int spin_us) : reader(max_frame) { reader.set_spin_us(spin_us); }
    int fd = -1;
    uint16_t epoch = 0;
    uint32_t request_limit = kDefaultMaxFrame;  // the daemon's max frame (from the handshake) ...
    uint32_t request_total = kDefaultMaxFrame;  // ... and its max request, sent in parts
    bool reused = false;                        // taken from the idle pool (may have been closed by a restarted daemon)
    WireBuffer out;
    FrameReader reader;
  };
  using EncodeFn = void (*)(Encoder&, const void*);
  // Request: what Call sends; `session` is the application's handle, if any.
  struct Request {
    Op op;
    std::optional<SessionHandle> session;
    bool retry_on_stale = false;  // safe to resend on a fresh connection (reads, OpenSession)
  };
  // Call: one round trip. `encode(Encoder&)` writes the fields after the
  // session; `decode(Decoder&, const Status&) -> bool` reads the fields after
  // the status and returns false if they are malformed. `out_epoch` receives
  // the epoch of the connection used.
  template <typename Enc, typename Dec>
  Status Call(const Request& req, Enc&& encode, Dec&& decode, uint16_t* out_epoch = nullptr);

  Result<std::unique_ptr<Conn>> Acquire(std::optional<uint16_t> session_epoch);
  void Release(std::unique_ptr<Conn> conn, bool healthy);
  Result<std::unique_ptr<Conn>> Connect(bool attach);  // REQUIRES(mu_)
  Status Handshake(Conn& conn, bool attach);           // REQUIRES(mu_)
  // Exchange: sends `request` (wiped after) and reads the response of `op`;
  // `*body` views the response after the status. Transport errors are
  // kUnavailable or kDeadlineExceeded; a malformed response is kDeviceError.
  Status Exchange(Conn& conn, WireBuffer& request, Op op, Status* status, std::span<const uint8_t>* body);
  // SendLeadingParts: for a request in conn.out over one frame, sends all
  // of its body but the last frame's worth as kContinued parts and leaves
  // the rest in conn.out. `*refused`: the daemon's answer to a part, if not OK.
  Status SendLeadingParts(Conn& conn, Status* refused);
  void ResetLocked();  // REQUIRES(mu_): drops the application (epoch 0, idle closed)
  // RefuseOversized: kDataLenRange for a request over the daemon's request
  // limit (never sent). As an argument error it ends the session's active
  // operation of that kind (PKCS#11 §5.2), as the embedded backend would.
  Status RefuseOversized(const Request& req);
  // OutCall: `fields` (encoded) and `in` (if has_in) precede the OutSpec.
  // `repeatable`, if set, receives the flag the response ends with (kSignInitSign).
  Status OutCall(Op op, SessionHandle session, std::span<const uint8_t> fields, std::span<const uint8_t> in,
                 bool has_in, OutBuf out, bool* repeatable = nullptr);
  Status MechKeyCall(Op op, SessionHandle session, const Mechanism& mech, ObjectHandle key);
  // DataCall: an input-only call. Multi-part updates (`splittable`) larger than
  // one frame go as several updates of the same stream, which is equivalent.
  Status DataCall(Op op, SessionHandle session, std::span<const uint8_t> in, bool splittable);

  // --- One round trip per signature (client_sign.cc, docs/design/daemon.md) ---
  // SignState: what this client knows of one session's signing.
  struct SignState {
    bool idle = false;     // no sign operation is active in the daemon
    bool pending = false;  // a C_SignInit answered here, to be sent with the next call
    MechanismType mech = 0;
    ObjectHandle key = 0;
    bool repeatable = false;  // SignInit(mech, key) succeeded with nothing changing meanwhile ...
    std::chrono::steady_clock::time_point confirmed_at;  // ... as the daemon said at this time
  };
  struct PendingInit {
    SessionHandle session;
    MechanismType mech;
    ObjectHandle key;
  };
  // SessionCurrent: the session belongs to this process's live application
  // (same fork generation and connection epoch). Takes mu_.
  bool SessionCurrent(SessionHandle session);
  // AnswerSignInit: OK if this SignInit can be answered without the daemon
  // (marked pending), kOperationActive if one is pending, nullopt otherwise.
  std::optional<Status> AnswerSignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key);
  std::optional<PendingInit> TakePending(SessionHandle session);
  // SignInitCall: the round trip of a SignInit (`late`: a pending one).
  Status SignInitCall(SessionHandle session, const Mechanism& mech, ObjectHandle key, bool late, bool* repeatable);
  // AfterSign: records how a Sign (`with_init`: sent with its pending SignInit) ended.
  void AfterSign(SessionHandle session, const Status& s, const OutBuf& out, bool with_init, bool repeatable);
  // BeforeChange: before a call that can change a SignInit's outcome (login,
  // logout, destroy ...): sends the pending SignInits, forgets the rest.
  void BeforeChange();
  Status FlushPending(SessionHandle session);

  const ClientOptions options_;
  std::mutex sign_mu_;                                 // taken after mu_, never before
  std::unordered_map<SessionHandle, SignState> sign_;  // GUARDED_BY(sign_mu_)
  std::mutex mu_;
  uint16_t epoch_ = 0;                                     // GUARDED_BY(mu_); 0 = no live application
  uint16_t last_epoch_ = 0;                                // GUARDED_BY(mu_)
  uint64_t app_id_ = 0;                                    // GUARDED_BY(mu_)
  std::atomic<uint32_t> request_limit_{kDefaultMaxFrame};  // the daemon's max frame, from the last Hello
  std::atomic<uint32_t> request_total_{kDefaultMaxFrame};  // the daemon's max request, from the last Hello
  SecretBytes attach_secret_;                              // GUARDED_BY(mu_)
  uint64_t fork_generation_;                               // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Conn>> idle_;                // GUARDED_BY(mu_)
};

// DeviceRemoved: the error of a call whose connection to the daemon broke.
Status DeviceRemoved(const Status& cause);
// MalformedResponse: the daemon sent something this client cannot parse.
Status MalformedResponse();

template <typename Enc, typename Dec>
Status DaemonBackend::Call(const Request& req, Enc&& encode, Dec&& decode, uint16_t* out_epoch) {
  std::optional<uint16_t> session_epoch;
  if (req.session) session_epoch = static_cast<uint16_t>(*req.session >> kEpochShift);
  for (int attempt = 0;; ++attempt) {
    Result<std::unique_ptr<Conn>> acquired = Acquire(session_epoch);
    if (!acquired.ok()) return acquired.status();
    std::unique_ptr<Conn> conn = std::move(*acquired);
    BeginFrame(&conn->out, kRequest, req.op);
    Encoder e(&conn->out);
    if (req.session) Put(e, *req.session & kLocalMask);
    encode(e);
    EndFrame(&conn->out);
    const size_t size = conn->out.size() - kLengthSize;
    if (size > conn->request_total) {
      OPENSSL_cleanse(conn->out.data(), conn->out.size());  // never sent; may be plaintext
      Release(std::move(conn), true);
      return RefuseOversized(req);
    }
    Status refused;
    Status io = size > conn->request_limit ? SendLeadingParts(*conn, &refused) : OkStatus();
    if (io.ok() && !refused.ok()) {
      OPENSSL_cleanse(conn->out.data(), conn->out.size());  // the rest is not sent
      Release(std::move(conn), true);
      return refused;
    }
    Status status;
    std::span<const uint8_t> body;
    if (io.ok()) io = Exchange(*conn, conn->out, req.op, &status, &body);
    if (io.ok()) {
      Decoder d(body);
      const bool well_formed = decode(d, status) && d.empty();
      conn->reader.Discard();
      if (!well_formed) {
        Release(std::move(conn), false);
        return MalformedResponse();
      }
      if (out_epoch != nullptr) *out_epoch = conn->epoch;
      Release(std::move(conn), true);
      return status;
    }
    // A reused connection closed by a restarted daemon: a request that is safe
    // to resend goes once more, on a fresh application.
    const bool stale = conn->reused && io.code() == StatusCode::kUnavailable;
    Release(std::move(conn), false);
    if (io.reason() == Reason::kDeviceError) return io;
    if (!(stale && req.retry_on_stale && attempt == 0)) return DeviceRemoved(io);
  }
}

}  // namespace certvault::ipc

#endif  // CERTVAULT_IPC_DAEMON_BACKEND_H_
