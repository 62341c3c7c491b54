// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// EmbeddedBackend: the vault in this process (Backend over storage + engine).
//
// State and locking (acquire in this order, never the reverse):
//   SessionShard::mu -> Session::mu -> TokenRuntime::mu
// The store has its own internal locking. SQLite is the source of truth for
// tokens and token objects; the only cache is parsed keys (KeyCacheEntry),
// revalidated against the object's stored version whenever the vault's
// ChangeCounter moved (or the entry is older than its staleness bound), and
// dropped at logout. Session objects live in session_objects_.
#ifndef CERTVAULT_CORE_EMBEDDED_BACKEND_H_
#define CERTVAULT_CORE_EMBEDDED_BACKEND_H_

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "src/base/trusted_clock.h"
#include "src/core/backend.h"
#include "src/core/change_counter.h"
#include "src/core/pin_lock.h"
#include "src/core/config.h"
#include "src/core/event_recorder.h"
#include "src/core/integrity.h"
#include "src/core/object.h"
#include "src/core/vault_objects.h"
#include "src/engine/engine.h"
#include "src/provision/provision.h"
#include "src/storage/store.h"

namespace certvault::core {

// LoginCheck: what the login-time integrity check found (backend_integrity.cc).
struct LoginCheck {
  DamagedBuckets damaged;                                     // groups of the object set that failed
  std::unordered_map<storage::ObjectId, uint64_t> versions;  // stored versions (bounded)
};

struct KeyCacheEntry {
  uint64_t version = 0;          // the object's stored version when parsed
  uint64_t validated_gen = 0;    // ChangeCounter value when last validated
  std::chrono::steady_clock::time_point validated_at;
  std::shared_ptr<const Object> object;
  std::shared_ptr<const engine::ReadyKey> key;
};

// TokenRuntime: this process's state of one token (PKCS#11 login state is
// per application, shared by all its sessions of the token).
struct TokenRuntime {
  explicit TokenRuntime(storage::TokenId token_id) : id(token_id) {}
  const storage::TokenId id;
  mutable std::shared_mutex mu;
  std::optional<UserType> login;  // GUARDED_BY(mu)
  SecretBytes token_key;          // GUARDED_BY(mu); empty unless logged in
  SecretBytes integrity_key;      // GUARDED_BY(mu); from token_key (integrity.h); empty unless logged in
  DamagedBuckets damaged;         // GUARDED_BY(mu); object-set groups that failed the login check
  // newest_version: the highest stored version of each token object seen
  // since the login (the login scan, then every load and own write), so that
  // a row copied back from an older version while logged in is refused too.
  // Bounded (kMaxTrackedVersions); dropped at logout.
  std::unordered_map<storage::ObjectId, uint64_t> newest_version;  // GUARDED_BY(mu)
  std::unordered_map<storage::ObjectId, KeyCacheEntry> key_cache;  // GUARDED_BY(mu)
  uint64_t session_count = 0;     // GUARDED_BY(mu)
  uint64_t rw_session_count = 0;  // GUARDED_BY(mu)
  // login_epoch changes at every login and logout: an operation kept for
  // reuse (Session::spare) from another epoch is never reused.
  std::atomic<uint64_t> login_epoch{0};
  // pin_expired: logged in with a PIN that must be changed first (PKCS#11
  // CKF_USER_PIN_TO_BE_CHANGED): token_key is empty and every operation but
  // C_SetPIN, C_Logout and the session calls returns CKR_PIN_EXPIRED.
  std::atomic<bool> pin_expired{false};
};

// ActiveOp: one in-progress operation of a session.
struct ActiveOp {
  std::unique_ptr<engine::CryptoOp> op;
  bool multipart = false;     // an Update has been called
  bool has_pending = false;   // output computed but not yet delivered (buffer was too small)
  SecureVector pending;
  // What the operation was started with, so that a finished one can be kept
  // and reused by the next *Init of the same key and mechanism (see OpInit).
  ObjectHandle key = 0;
  MechanismType mech = 0;
  bool reusable = false;  // a keyed operation without mechanism parameters
  uint64_t validated_gen = 0;  // the key's cache validation (KeyCacheEntry)
  std::chrono::steady_clock::time_point validated_at;
  uint64_t login_epoch = 0;
  // protect_until: a protecting operation (sign, encrypt) is not reused from
  // this time on: its key's CKA_END_DATE has passed (lifecycle.h).
  std::chrono::steady_clock::time_point protect_until = std::chrono::steady_clock::time_point::max();
  // CKA_ALWAYS_AUTHENTICATE (v3.0 §4.9): the operation runs only after a
  // C_Login(CKU_CONTEXT_SPECIFIC) that followed its *Init.
  bool needs_context_login = false;
  bool context_login_done = false;
};

struct FindState {
  bool active = false;
  std::vector<ObjectHandle> results;
  size_t pos = 0;
};

struct Session {
  SessionHandle handle = 0;
  storage::TokenId token = 0;
  uint64_t flags = 0;  // CKF_RW_SESSION | CKF_SERIAL_SESSION
  std::shared_ptr<TokenRuntime> runtime;
  std::mutex mu;  // serializes calls on this session
  std::array<std::optional<ActiveOp>, 5> ops;    // indexed by engine::OpKind
  std::array<std::optional<ActiveOp>, 5> spare;  // finished, kept for reuse
  FindState find;
  // The operation whose *Init came last and awaits a context-specific login
  // (an index into ops), if any.
  std::optional<size_t> awaiting_context_login;
  // The token's mechanism allow-list, fixed when the session opened (a token
  // cannot be re-initialized while it has sessions); nullopt = no limit.
  std::optional<std::set<MechanismType>> allowed;
  uint32_t capacity = 0;  // the token's key/certificate pair limit (0 = none), fixed likewise
  bool rw() const { return (flags & CKF_RW_SESSION) != 0; }
};

class EmbeddedBackend final : public Backend {
 public:
  EmbeddedBackend(Config config, bool create_vault);
  ~EmbeddedBackend() override;

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
  std::optional<uint64_t> StateGeneration() override;
  void SetEventPeer(int64_t uid, int64_t pid, const std::string& exe) override;
  Status SeedRandom(SessionHandle session, std::span<const uint8_t> seed) override;
  Status GenerateRandom(SessionHandle session, std::span<uint8_t> out) override;

  // --- quorum-protected keys (backend_custody.cc, docs/design/quorum.md) ---
  // DestroyProtectedObjects: destroys `objects` (token keys with
  // CKA_CV_QUORUM_PROTECTED, found by the caller in a user session) under the
  // approved `destroy-key` operation `op_id` (single use: one call). Not
  // reachable through PKCS#11 (IPC op DestroyProtectedObjects). kArgumentsBad if one is not such a key,
  // kPermissionDenied if the operation is not approved (nothing destroyed).
  Status DestroyProtectedObjects(SessionHandle session, const std::vector<ObjectHandle>& objects,
                                 const std::string& op_id) override;

  // --- maintenance verbs: quorum, backup, zeroize (backend_quorum.cc) ---
  // UnlockTokenKey: checks `pin` of `user` for `token` as C_Login does (the
  // tamper-evident counter first, counted durably, under the PIN lock; a
  // lockout recorded) and returns the token key; the login itself is not
  // taken. kPinIncorrect, kPinLocked, kUserPinNotInitialized as C_Login.
  // REQUIRES no session of this backend logged in on `token`.
  Result<SecretBytes> UnlockTokenKey(storage::TokenId token, UserType user, const SecretBytes& pin);
  // MaintenanceStore: the vault's store (kNotFound if the vault has none).
  Result<storage::Store*> MaintenanceStore();
  // KmPolicy: the vault's policy.toml ([vault] policy), or null without one.
  // Lives as long as this backend.
  const kmpolicy::Policy* KmPolicy() const { return config_.policy.get(); }

  // Central provisioning (backend_provisioning.cc, backend_update.cc; issue 14).
  Status CreateVaultKeys(SessionHandle session) override;
  Result<VaultIdentity> GetVaultIdentity(SessionHandle session) override;
  Result<Bytes> IdentityCsr(SessionHandle session, const std::string& subject) override;
  Status ImportIdentityCert(SessionHandle session, std::span<const uint8_t> der) override;
  Status PinAuthority(SessionHandle session, std::span<const uint8_t> cert_der) override;
  Result<Bytes> UpdateRequest(SessionHandle session, const std::string& label) override;
  Result<ApplyResult> ApplyUpdate(SessionHandle session, std::span<const uint8_t> package) override;
  Result<Bytes> Attest(SessionHandle session, ObjectHandle key) override;

 private:
  // --- provisioning helpers (backend_provisioning.cc) ---
  // The calls that change the token, without their event (see Logged above).
  Status CreateVaultKeysUnlogged(SessionHandle session);
  Status ImportIdentityCertUnlogged(SessionHandle session, std::span<const uint8_t> der);
  Status PinAuthorityUnlogged(SessionHandle session, std::span<const uint8_t> cert_der);
  Result<Bytes> UpdateRequestUnlogged(SessionHandle session, const std::string& label);
  Result<ApplyResult> ApplyUpdateUnlogged(SessionHandle session, std::span<const uint8_t> package);
  // ProvisioningSession: the session, which must be R/W with the user logged in.
  Result<std::shared_ptr<Session>> ProvisioningSession(SessionHandle handle);
  // FindVaultObject: the token object with CKA_CV_VAULT_ROLE `role`; kNotFound if none.
  Result<std::shared_ptr<const Object>> FindVaultObject(Session& s, uint64_t role);
  // VaultPrivateKey: the identity or transport private key, parsed.
  Result<std::shared_ptr<const engine::ReadyKey>> VaultPrivateKey(Session& s, uint64_t role);
  // SealNewRow: a new token object's row (secrets sealed, record MACed).
  Result<storage::ObjectRow> SealNewRow(Session& s, AttributeSet attrs, const AttributeSet& extra_secrets);
  // UpdatedRow: `old` with `changes` applied, as its next version's row.
  Result<storage::ObjectRow> UpdatedRow(Session& s, const Object& old, const AttributeSet& changes);
  // DeliveredRows: the rows of a package's key and certificates (backend_update.cc).
  Result<std::vector<storage::ObjectRow>> DeliveredRows(Session& s, const provision::PackageContent& content,
                                                        Bytes* out_key_id);
  // UpdatePlan: what an opened package changes (backend_update_ops.cc):
  // rows to insert, token objects to delete, a new capacity.
  struct UpdatePlan {
    std::vector<storage::ObjectRow> rows;
    std::vector<storage::ObjectRow> vault_rows;  // the vault's own objects: not counted against the capacity
    std::vector<std::shared_ptr<const Object>> removed;
    std::optional<uint32_t> capacity;
    Bytes key_id;  // for the receipt
  };
  // PlanUpdate: checks the operation against the vault (the key to renew or
  // delete exists, is not a vault object, the new certificate certifies it)
  // and plans it; kDataInvalid otherwise. Writes nothing.
  Result<UpdatePlan> PlanUpdate(Session& s, const provision::PackageContent& content);
  Result<UpdatePlan> PlanRenewal(Session& s, const provision::PackageContent& content);
  Result<UpdatePlan> PlanDeletion(Session& s, const provision::PackageContent& content);
  // PlanRotation: the pinned authority `current` is replaced by the package's
  // certificate, which must be valid now and differ from it. The caller has
  // checked that `current` itself signed the package.
  Result<UpdatePlan> PlanRotation(Session& s, const provision::PackageContent& content,
                                  std::shared_ptr<const Object> current);
  // UserObjects: the token objects `q` finds (its token and include_private
  // are set here) that are not vault objects.
  Result<std::vector<std::shared_ptr<const Object>>> UserObjects(Session& s, storage::ObjectQuery q);
  // CheckNewCapacity: kDataInvalid if the token holds more user keys or
  // certificates than `capacity` (0 = unlimited) allows. Inside the commit.
  static Status CheckNewCapacity(storage::Store& store, storage::TokenId token, uint32_t capacity);
  // CommitUpdate: `plan` and the new state row in one transaction (the
  // state object and plan.removed leave the object set; a new capacity is
  // sealed into the token row and returned in `out_token`).
  Status CommitUpdate(Session& s, storage::Store& store, const Object& state_obj, const storage::ObjectRow& state_row,
                      const UpdatePlan& plan, std::optional<storage::TokenRow>* out_token);
  // ApplyUpdateLocked: ApplyUpdateUnlogged under s.mu; `out_token` is the
  // token row after a capacity change (adopted by the caller without the lock).
  Result<ApplyResult> ApplyUpdateLocked(Session& s, std::span<const uint8_t> package,
                                        std::optional<storage::TokenRow>* out_token);
  // SignReceipt: an UpdateReceipt signed by the identity key.
  Result<Bytes> SignReceipt(Session& s, const std::string& serial, uint64_t counter, const Bytes& package_hash,
                            const Bytes& key_id);
  // ReadState / StateRow: the provisioning state object's sealed CKA_VALUE
  // (vault_objects.h), read, or written as the object's next version's row.
  Result<vault::State> ReadState(Session& s, const Object& obj);
  Result<storage::ObjectRow> StateRow(Session& s, const Object& old, const vault::State& state);
  // VaultRoleCount: the token's vault objects of `cls` (not counted by capacity).
  static Result<uint64_t> VaultRoleCount(storage::Store& store, storage::TokenId token, uint64_t cls);
  // --- event log (backend_events.cc, docs/formats/event-log.md) ---
  // The public calls that change a token write an event and call these,
  // which do the work.
  Status InitTokenUnlogged(SlotId slot, const SecretBytes& so_pin, std::string_view label, const TokenOptions& options);
  Status InitPinUnlogged(SessionHandle session, const SecretBytes& pin);
  Status SetPinUnlogged(SessionHandle session, const SecretBytes& old_pin, const SecretBytes& new_pin);
  Status LoginUnlogged(SessionHandle session, UserType user, const SecretBytes& pin);
  Result<ObjectHandle> CreateObjectUnlogged(SessionHandle session, const AttributeSet& tmpl);
  Status DestroyObjectUnlogged(SessionHandle session, ObjectHandle object);
  Status SetAttributeValueUnlogged(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl);
  Result<ObjectHandle> GenerateKeyUnlogged(SessionHandle session, const Mechanism& mech, const AttributeSet& tmpl);
  Result<KeyPair> GenerateKeyPairUnlogged(SessionHandle session, const Mechanism& mech, const AttributeSet& public_tmpl,
                                          const AttributeSet& private_tmpl);
  Result<ObjectHandle> UnwrapKeyUnlogged(SessionHandle session, const Mechanism& mech, ObjectHandle unwrapping_key,
                                         std::span<const uint8_t> wrapped, const AttributeSet& tmpl);
  Result<ObjectHandle> DeriveKeyUnlogged(SessionHandle session, const Mechanism& mech, ObjectHandle base_key,
                                         const AttributeSet& tmpl);
  // RecordFor: appends `event` for session `handle`'s token, as its login role.
  void RecordFor(SessionHandle handle, audit::Event event);
  // StartPending: the event of an operation on session `handle` that writes
  // token objects, to be appended in their transaction (PendingEvent);
  // recorder null if the log is off or the session is unknown. With
  // `violations_only` (a session object), only a policy refusal is recorded.
  PendingEvent StartPending(SessionHandle handle, audit::Event event, bool violations_only = false);
  // FinishPending: after the operation: if its transaction did not take the
  // event (it failed), appends it on its own with the error.
  void FinishPending(PendingEvent& pending, const Status& status);
  // TokenObjectLabel: true and the label column if `object` is a token object.
  bool TokenObjectLabel(ObjectHandle object, std::string* out_label);
  // UnlockEvents: after a successful PIN use, opens the token's audit key
  // with the runtime's token key (if it has one).
  void UnlockEvents(SessionHandle handle);

  // --- quorum-protected keys (backend_custody.cc) ---
  // CheckNotProtected: kActionProhibited if `obj` is quorum-protected.
  static Status CheckNotProtected(const Object& obj, std::string_view action);
  // CheckProtectedChange: a C_SetAttributeValue of `tmpl` on `obj`: refused
  // on a quorum-protected key unless it is a state transition that keeps the
  // key material.
  static Status CheckProtectedChange(const Object& obj, const AttributeSet& tmpl);
  // SessionTokenKey: a copy of the token key of the session's user login.
  static Result<SecretBytes> SessionTokenKey(Session& s);
  // TakeCreateRequest: removes CKA_CV_QUORUM_OP (and the vault-set
  // CKA_CV_QUORUM_PROTECTED) from the generation templates; with an
  // operation id, authorizes `create-key` and returns true (the new keys are
  // then marked with MarkProtected). kActionProhibited for
  // CKA_CV_QUORUM_PROTECTED=TRUE without an operation, or when the token's
  // quorum pinned another policy than the one loaded (policy_pin.h). Either
  // template may be null.
  Result<bool> TakeCreateRequest(Session& s, AttributeSet* pub_tmpl, AttributeSet* priv_tmpl);
  Status AuthorizeCreate(Session& s, const std::string& op_id);
  static void MarkProtected(AttributeSet* pub, AttributeSet* priv);
  // CheckReinitAllowed: C_InitToken never re-initializes a token that has a
  // quorum (that is a zeroization, which the quorum guards). With the SO's
  // `token_key` (after the PIN check) it also refuses a token whose verified
  // record says it has a quorum whose record was deleted (quorum_flag.h).
  static Status CheckReinitAllowed(storage::Store& store, storage::TokenId token, const SecretBytes* token_key);

  // --- vault and tokens (backend_vault.cc) ---
  // Store: the open store, opening it if the database now exists (another
  // process may have created it). kNotFound if there is no vault yet.
  Result<storage::Store*> Store();
  // QuorumMechanism: CKM_CV_QUORUM with k and n when `token` has a quorum
  // record (backend_custody.cc), else nothing.
  std::optional<MechanismInfo> QuorumMechanism(storage::TokenId token);
  Result<storage::Store*> CreateStoreIfMissing();
  Result<storage::TokenRow> TokenForSlot(SlotId slot);
  std::shared_ptr<TokenRuntime> Runtime(storage::TokenId token);
  Status CheckMechanismAllowed(const storage::TokenRow& token, MechanismType mech);
  // CheckAllowed: the session's token allow-list (no storage access).
  static Status CheckAllowed(const Session& s, MechanismType mech);
  Status CreateToken(SlotId slot, const SecretBytes& so_pin, std::string_view label, const TokenOptions& options);

  // --- sessions (backend_sessions.cc) ---
  // GetSession: the session, or kPinExpired while its token's login waits
  // for a first-use PIN change (every operation but those FindSession serves).
  Result<std::shared_ptr<Session>> GetSession(SessionHandle handle);
  // FindSession: the session whatever the login state (C_Login, C_Logout,
  // C_SetPIN, C_GetSessionInfo).
  Result<std::shared_ptr<Session>> FindSession(SessionHandle handle);
  void DropSessionObjects(SessionHandle owner);
  void LogoutLocked(TokenRuntime& rt);  // REQUIRES rt.mu held exclusively
  // DropSpares: frees the operations kept for reuse by the token's sessions
  // (at logout: they reference private keys).
  void DropSpares(storage::TokenId token);
  std::vector<std::shared_ptr<Session>> SessionsOf(storage::TokenId token);
  Status CheckLoginAllowed(const Session& s, UserType user);
  // ContextLogin: C_Login(CKU_CONTEXT_SPECIFIC) (v3.0 §5.6.8): checks the user
  // PIN (counted like a login) and authorizes the session's operation that
  // awaits it. kOperationNotInitialized without an active operation.
  Status ContextLogin(Session& s, const SecretBytes& pin);
  // VerifyPin: checks the counter is untampered (pin_counter.h), counts the
  // try (durably, first), checks `pin` and returns the token key; resets the
  // counter on success. kArgumentsBad (not counted) for an empty PIN.
  // REQUIRES a PinCheckLock::Guard on pin_lock_; no runtime lock.
  Result<SecretBytes> VerifyPin(storage::Store& store, storage::TokenId token, UserType user, const SecretBytes& pin,
                                bool* must_change);
  // AcceptCorrectPin: after a correct PIN: re-anchors the counter (or
  // re-seals a version 1 row as version 2, with the token's one-time
  // integrity upgrade: ResealLegacyPin). REQUIRES the PinCheckLock.
  Status AcceptCorrectPin(storage::Store& store, const storage::AuthRow& checked, const SecretBytes& pin,
                          const SecretBytes& token_key);
  // CheckPinPolicy: kPinLenRange unless `pin` meets the configured policy.
  Status CheckPinPolicy(const SecretBytes& pin, bool so) const;
  // CommitLogin: makes `user` the token's login (PKCS#11 login state is per
  // application) with its token and integrity keys, unless another thread
  // logged in meanwhile. With `pin_expired` the keys are empty and only
  // C_SetPIN and the session calls work until the PIN is changed.
  Status CommitLogin(Session& s, UserType user, SecretBytes key, SecretBytes ik, LoginCheck check, bool pin_expired);
  // PromoteExpiredLogin: after C_SetPIN, turns `user`'s expired login (if it
  // is one) into a full login with `key`, checking the token as Login does.
  Status PromoteExpiredLogin(Session& s, storage::Store& store, UserType user, SecretBytes key);

  // --- objects (backend_objects.cc) ---
  // FetchObject: the object if it exists and this session may see it
  // (same token; private objects only when the user is logged in).
  // kObjectHandleInvalid otherwise (`key_reason` replaces it for key handles).
  Result<std::shared_ptr<const Object>> FetchObject(Session& s, ObjectHandle handle,
                                                    Reason not_found = Reason::kObjectHandleInvalid);
  // FetchKey: FetchObject + the parsed key, from the cache when unchanged.
  Result<KeyCacheEntry> FetchKey(Session& s, ObjectHandle handle, Reason not_found);
  // CachedKey: the cached key if still valid at counter value `gen`.
  Result<KeyCacheEntry> CachedKey(TokenRuntime& rt, storage::Store& store, ObjectHandle handle, uint64_t gen,
                                  std::chrono::steady_clock::time_point now);
  // StoreNewObjects: assigns ids, seals secrets, checks capacity and stores
  // token objects (one transaction) or registers session objects.
  struct NewObject {
    AttributeSet attrs;    // complete; secret attributes are split off and sealed here
    AttributeSet secrets;  // extra secrets (private key PKCS#8 as kCvaKeyMaterial, ...)
  };
  // `replaced`: a token object deleted in the same transaction (ReplaceCertificate).
  Result<std::vector<ObjectHandle>> StoreNewObjects(Session& s, std::vector<NewObject> objects,
                                                    const Object* replaced = nullptr);
  Result<ObjectHandle> ReplaceCertificateUnlogged(SessionHandle session, ObjectHandle old, const AttributeSet& tmpl);
  // StoreNewObject: one object whose secret `secret_type` is `secret`.
  Result<ObjectHandle> StoreNewObject(Session& s, AttributeSet attrs, AttributeType secret_type,
                                      const SecretBytes& secret);
  // PublicTokenRow: the one path that stores a token object created without
  // the token key (no user logged in: a public object in a R/W public
  // session). kUserNotLoggedIn if it is private or has secrets. Whatever a
  // token object must carry that needs the token key (sealing, integrity)
  // has to be decided here for such objects.
  static Result<storage::ObjectRow> PublicTokenRow(const Object& obj, const AttributeSet& secrets);
  Status CheckCreateAllowed(Session& s, const AttributeSet& attrs);
  static Status CheckCapacity(storage::Store& store, const Session& s, const std::vector<storage::ObjectRow>& rows);
  Result<std::vector<ObjectHandle>> FindCandidates(Session& s, const AttributeSet& tmpl);
  Result<SecureVector> ReadAttribute(Session& s, const Object& obj, AttributeType type, Reason* out_reason);
  // PersistUpdate: stores `updated` (the next version of `old`, its sealed
  // secrets set) in place of `old`: a token object in one transaction with
  // its integrity state, a session object in memory; drops cached keys.
  Status PersistUpdate(Session& s, const Object& old, std::shared_ptr<Object> updated);

  // --- key lifecycle (backend_lifecycle.cc, lifecycle.h) ---
  // CommitTransition: the one path that changes a key's lifecycle state
  // (C_SetAttributeValue with CKA_CV_KEY_STATE[_REASON]): plans it
  // (lifecycle::PlanTransition), stamps state, time and reason into the
  // object (covered by its record MAC), wipes the key material when the key
  // is destroyed, and commits it. Allowed whatever CKA_MODIFIABLE says.
  Status CommitTransition(Session& s, const Object& key, const AttributeSet& changes);

  // --- integrity (backend_integrity.cc, docs/formats/integrity.md) ---
  // IntegrityKeyOf: a copy of the token's integrity key; empty if nobody is
  // logged in.
  static SecretBytes IntegrityKeyOf(TokenRuntime& rt);
  // CheckUsable: kCorruptStore if `obj` is a token object in a group of the
  // object set that failed the login check, or older than a version of it
  // already seen during this login. Otherwise notes its version.
  static Status CheckUsable(TokenRuntime& rt, const Object& obj);
  // NoteVersion: `version` of token object `id` was seen (or written).
  static Status NoteVersion(TokenRuntime& rt, storage::ObjectId id, uint64_t version);
  // CheckTokenAtLogin: verifies the token state (token fields + object set
  // MAC; kCorruptStore if it fails, which refuses the login) and recomputes
  // the object set: returns the groups whose value does not match, and the
  // verified token row in `out_row`. An empty state is refused too
  // (kCorruptStore): the PIN record verified for this login is version 2 by
  // now, and a legacy token got its state when that record was re-sealed.
  static Result<LoginCheck> CheckTokenAtLogin(storage::Store& store, storage::TokenId token, const SecretBytes& ik,
                                              storage::TokenRow* out_row);
  // AdoptVerifiedToken: the token's sessions take their allow-list and
  // capacity from the row verified at login (they read it unverified when
  // they were opened). REQUIRES no session or runtime lock held.
  void AdoptVerifiedToken(const storage::TokenRow& row);
  static Status UpgradeLegacyToken(storage::Store& store, storage::TokenRow row, const SecretBytes& ik);
  // TokenStateRequired: true if the token must already have an integrity
  // state (a downgrade otherwise): one of its PIN records is version 2
  // (written only by builds that keep the state; the version is bound into
  // the wrapped key, so it cannot be turned back without the PIN), or its SO
  // record is missing or malformed. Runs inside the caller's transaction.
  static Result<bool> TokenStateRequired(storage::Store& store, storage::TokenId token);
  // ResealLegacyPin: writes `resealed` (the version 2 form of a version 1 PIN
  // record just verified) and, in the same transaction, upgrades the token
  // if it has no state yet and TokenStateRequired is false (trust on first
  // use). REQUIRES the PinCheckLock.
  static Status ResealLegacyPin(storage::Store& store, const storage::AuthRow& resealed, const SecretBytes& token_key);
  // CommitObjects: one write transaction that runs `write` (the object rows'
  // insert/update/delete) and moves the token's object set from `removed`
  // (the object being replaced or deleted, as loaded; may be null) to
  // `added` (the rows written). Without `ik` only unauthenticated objects
  // may be replaced or deleted (kUserNotLoggedIn).
  static Status CommitObjects(storage::Store& store, storage::TokenId token, const SecretBytes& ik,
                              const Object* removed, const std::vector<storage::ObjectRow>& added,
                              const std::function<Status()>& write);
  // CommitObjectSet: CommitObjects with several objects `removed` (each must
  // still be the version loaded) and, when `edit_token` is set, a change of
  // the token row (e.g. its capacity) sealed into the same transaction.
  static Status CommitObjectSet(storage::Store& store, storage::TokenId token, const SecretBytes& ik,
                                std::span<const Object* const> removed, const std::vector<storage::ObjectRow>& added,
                                const std::function<Status()>& write,
                                const std::function<Status(storage::TokenRow&)>& edit_token);

  // --- operations (backend_crypto.cc) ---
  Status OpInit(SessionHandle handle, engine::OpKind kind, const Mechanism& mech, ObjectHandle key);
  // ReuseSpare: moves the session's kept operation of `kind` into its active
  // slot if it was started with the same key and mechanism and nothing has
  // changed since (vault change counter, staleness bound, login epoch).
  bool ReuseSpare(Session& s, engine::OpKind kind, const Mechanism& mech, ObjectHandle key);
  Status OpRun(SessionHandle handle, engine::OpKind kind, std::span<const uint8_t> in, OutBuf out);
  Status OpUpdate(SessionHandle handle, engine::OpKind kind, std::span<const uint8_t> in, OutBuf out);
  Status OpFinal(SessionHandle handle, engine::OpKind kind, OutBuf out);
  // ActiveFor: the session's active operation of `kind`, ready to run:
  // kOperationNotInitialized if none; kUserNotLoggedIn (ending it) if it
  // still awaits its context-specific login.
  static Result<ActiveOp*> ActiveFor(Session& s, engine::OpKind kind);

  const Config config_;
  const bool create_vault_;
  std::mutex store_mu_;
  std::unique_ptr<storage::Store> store_;  // GUARDED_BY(store_mu_) for creation; then immutable
  std::atomic<storage::Store*> store_ptr_{nullptr};
  std::unique_ptr<ChangeCounter> changes_;  // set with store_, before store_ptr_ is published
  std::atomic<uint64_t> local_changes_{0};  // logins, logouts, session-object changes (StateGeneration)
  PinCheckLock pin_lock_;                   // every PIN check (pin_lock.h)
  // Trusted time of this vault (its floor in the store's meta table):
  // checked at C_Login and C_SignInit, fully at most once per interval.
  TrustedClock clock_;
  EventRecorder events_;                    // the vault's event log (event_recorder.h)

  // create_grants_: per token, the create-key operation authorized during
  // its current login (login_epoch), reused for the keys of one ceremony.
  struct CreateGrant {
    uint64_t epoch = 0;
    std::string op_id;
  };
  std::mutex custody_mu_;
  std::unordered_map<storage::TokenId, CreateGrant> create_grants_;  // GUARDED_BY(custody_mu_)

  std::mutex runtimes_mu_;
  std::unordered_map<storage::TokenId, std::shared_ptr<TokenRuntime>> runtimes_;  // GUARDED_BY(runtimes_mu_)

  // Sessions, sharded by handle: threads working on different sessions never
  // share a lock word (consecutive handles land in different shards).
  struct SessionShard {
    std::shared_mutex mu;
    std::unordered_map<SessionHandle, std::shared_ptr<Session>> map;  // GUARDED_BY(mu)
  };
  static constexpr size_t kSessionShards = 16;
  SessionShard& ShardFor(SessionHandle handle) { return session_shards_[handle % kSessionShards]; }
  std::array<SessionShard, kSessionShards> session_shards_;
  std::atomic<SessionHandle> next_session_{1};

  std::shared_mutex session_objects_mu_;
  std::unordered_map<storage::ObjectId, std::shared_ptr<Object>> session_objects_;  // GUARDED_BY(session_objects_mu_)
};

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_EMBEDDED_BACKEND_H_
