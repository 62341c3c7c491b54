// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Backend: the vault as the boundaries see it. The PKCS#11 module, the OpenSSL
// provider and the CLI talk only to a Backend; two implementations exist:
//  - the embedded backend (src/core/embedded_backend.h), the vault in-process;
//  - the daemon client (src/ipc), the vault inside certvaultd.
// The calls map 1:1 to PKCS#11 v3.0 functions, with C++ types, so that both
// backends give the same behaviour and the same errors, and every call can be
// forwarded over IPC unchanged. Handles are stable for the life of a session.
//
// Errors: every call returns a Status whose Reason names the PKCS#11 error
// precisely (src/pkcs11/ckrv.cc maps it). Functions that fill an OutBuf follow
// PKCS#11 §5.2: a length query or kBufferTooSmall leaves the operation active;
// any other error, or success, ends it.
//
// Thread-safety: all methods are thread-safe. Calls on different sessions run
// in parallel; calls on one session are serialized by the backend.
#ifndef CERTVAULT_CORE_BACKEND_H_
#define CERTVAULT_CORE_BACKEND_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/model/types.h"

namespace certvault {

// AttributeRequest: one entry of a C_GetAttributeValue template.
// On return, `status` is OK (value filled), or kAttributeSensitive,
// kAttributeTypeInvalid; `value` is the attribute's bytes.
struct AttributeRequest {
  AttributeType type = 0;
  SecureVector value;
  Reason status = Reason::kNone;  // kNone on success
};

class Backend {
 public:
  virtual ~Backend() = default;

  // --- Slots and tokens (PKCS#11 §5.5) ---
  virtual Result<std::vector<SlotId>> GetSlotList(bool token_present) = 0;
  virtual Result<SlotInfo> GetSlotInfo(SlotId slot) = 0;
  virtual Result<TokenInfo> GetTokenInfo(SlotId slot) = 0;
  virtual Result<std::vector<MechanismInfo>> GetMechanismList(SlotId slot) = 0;
  virtual Result<MechanismInfo> GetMechanismInfo(SlotId slot, MechanismType type) = 0;
  // InitToken: (re)initializes the token in `slot` with a new SO PIN and label,
  // destroying its objects. On an initialized token `so_pin` must be correct.
  virtual Status InitToken(SlotId slot, const SecretBytes& so_pin, std::string_view label) = 0;
  // InitTokenWithOptions: certvault's extension of C_InitToken (used by the
  // CLI): capacity and PIN policy. InitToken uses the configured defaults.
  struct TokenOptions {
    uint32_t capacity = 0;              // max key/certificate pairs; 0 = unlimited
    bool user_pin_must_change = false;  // CKF_USER_PIN_TO_BE_CHANGED until C_SetPIN
  };
  virtual Status InitTokenWithOptions(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                                      const TokenOptions& options) = 0;
  virtual Status InitPin(SessionHandle session, const SecretBytes& pin) = 0;
  virtual Status SetPin(SessionHandle session, const SecretBytes& old_pin, const SecretBytes& new_pin) = 0;

  // --- Sessions (§5.6) ---
  virtual Result<SessionHandle> OpenSession(SlotId slot, uint64_t flags) = 0;
  virtual Status CloseSession(SessionHandle session) = 0;
  virtual Status CloseAllSessions(SlotId slot) = 0;
  virtual Result<SessionInfo> GetSessionInfo(SessionHandle session) = 0;
  virtual Status Login(SessionHandle session, UserType user, const SecretBytes& pin) = 0;
  virtual Status Logout(SessionHandle session) = 0;

  // --- Objects (§5.7) ---
  virtual Result<ObjectHandle> CreateObject(SessionHandle session, const AttributeSet& tmpl) = 0;
  virtual Result<ObjectHandle> CopyObject(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) = 0;
  virtual Status DestroyObject(SessionHandle session, ObjectHandle object) = 0;
  // ReplaceCertificate (certvault extension, no PKCS#11 call): creates a
  // token certificate from `tmpl` and destroys the token certificate `old`
  // in one transaction, so that no reader sees neither or both (renewal
  // keeps the old label and CKA_ID). Both must be CKO_CERTIFICATE token
  // objects of the session's token; `old` must be destroyable. Returns the
  // new handle; on error nothing changed.
  virtual Result<ObjectHandle> ReplaceCertificate(SessionHandle session, ObjectHandle old, const AttributeSet& tmpl) {
    return Status(Reason::kFunctionNotSupported, "this backend cannot replace a certificate in one step");
  }
  // DestroyProtectedObjects (certvault extension, no PKCS#11 call; issue 16,
  // docs/design/quorum.md): destroys `objects`, quorum-protected token keys
  // the session's user found, under the approved `destroy-key` operation
  // `op_id` (single use). kArgumentsBad if one is not such a key,
  // kPermissionDenied if the operation is not approved: nothing destroyed.
  virtual Status DestroyProtectedObjects(SessionHandle session, const std::vector<ObjectHandle>& objects,
                                         const std::string& op_id) {
    return Status(Reason::kFunctionNotSupported, "this backend cannot destroy quorum-protected keys");
  }
  virtual Result<uint64_t> GetObjectSize(SessionHandle session, ObjectHandle object) = 0;
  // GetAttributeValue fills each request; returns the first non-OK reason
  // (kAttributeSensitive before kAttributeTypeInvalid, as PKCS#11 orders them)
  // or OK. Per-request results are in `requests[i].status`.
  virtual Status GetAttributeValue(SessionHandle session, ObjectHandle object,
                                   std::vector<AttributeRequest>* requests) = 0;
  virtual Status SetAttributeValue(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) = 0;
  virtual Status FindObjectsInit(SessionHandle session, const AttributeSet& tmpl) = 0;
  // FindObjects: up to `max` more handles.
  virtual Result<std::vector<ObjectHandle>> FindObjects(SessionHandle session, size_t max) = 0;
  virtual Status FindObjectsFinal(SessionHandle session) = 0;

  // --- Cryptographic operations (§5.8 - §5.13) ---
  // Each *Init starts the session's single operation of that kind
  // (kOperationActive if one is active). Single-part calls end it.
  virtual Status EncryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) = 0;
  virtual Status Encrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status EncryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status EncryptFinal(SessionHandle session, OutBuf out) = 0;
  virtual Status DecryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) = 0;
  virtual Status Decrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status DecryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status DecryptFinal(SessionHandle session, OutBuf out) = 0;
  virtual Status DigestInit(SessionHandle session, const Mechanism& mech) = 0;
  virtual Status Digest(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status DigestUpdate(SessionHandle session, std::span<const uint8_t> in) = 0;
  virtual Status DigestKey(SessionHandle session, ObjectHandle key) = 0;
  virtual Status DigestFinal(SessionHandle session, OutBuf out) = 0;
  virtual Status SignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) = 0;
  virtual Status Sign(SessionHandle session, std::span<const uint8_t> in, OutBuf out) = 0;
  virtual Status SignUpdate(SessionHandle session, std::span<const uint8_t> in) = 0;
  virtual Status SignFinal(SessionHandle session, OutBuf out) = 0;
  virtual Status VerifyInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) = 0;
  virtual Status Verify(SessionHandle session, std::span<const uint8_t> in, std::span<const uint8_t> sig) = 0;
  virtual Status VerifyUpdate(SessionHandle session, std::span<const uint8_t> in) = 0;
  virtual Status VerifyFinal(SessionHandle session, std::span<const uint8_t> sig) = 0;

  // CancelOperation ends the session's active operation of `kind`, if any
  // (OK either way). Boundaries call it when they reject a call's arguments
  // themselves -- PKCS#11 §5.2: such an error ends the operation too -- and for
  // v3.0's C_*Init with a NULL mechanism, which cancels.
  enum class OperationKind : uint8_t { kEncrypt, kDecrypt, kDigest, kSign, kVerify };
  virtual Status CancelOperation(SessionHandle session, OperationKind kind) = 0;

  // --- Keys (§5.14) ---
  virtual Result<ObjectHandle> GenerateKey(SessionHandle session, const Mechanism& mech, const AttributeSet& tmpl) = 0;
  struct KeyPair {
    ObjectHandle public_key = 0;
    ObjectHandle private_key = 0;
  };
  virtual Result<KeyPair> GenerateKeyPair(SessionHandle session, const Mechanism& mech,
                                          const AttributeSet& public_tmpl, const AttributeSet& private_tmpl) = 0;
  virtual Status WrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle wrapping_key,
                         ObjectHandle key, OutBuf out) = 0;
  virtual Result<ObjectHandle> UnwrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle unwrapping_key,
                                         std::span<const uint8_t> wrapped, const AttributeSet& tmpl) = 0;
  virtual Result<ObjectHandle> DeriveKey(SessionHandle session, const Mechanism& mech, ObjectHandle base_key,
                                         const AttributeSet& tmpl) = 0;

  // VaultStatus: why the vault cannot be used (kNotFound: no vault directory;
  // kDataLoss/kCorruptStore: damaged database; kPermissionDenied ...), or OK.
  // PKCS#11 has no such call (a broken vault shows as an empty slot list); the
  // CLI uses it to say what is wrong.
  virtual Status VaultStatus() = 0;

  // StateGeneration: a number that moves, before the call that moved it
  // returns, whenever the outcome of an operation *Init on an unchanged
  // session may change: an object updated or destroyed (by any process), a
  // login or logout, a token re-initialized. nullopt if the backend cannot
  // tell. certvaultd hands it to its clients, so that a repeated C_SignInit
  // is answered without a round trip (docs/design/daemon.md, "One round trip
  // per signature").
  virtual std::optional<uint64_t> StateGeneration() { return std::nullopt; }

  // --- Random (§5.15) ---
  // SetEventPeer: certvaultd tells the backend of one client application
  // which process it serves (SO_PEERCRED uid and pid, and its executable),
  // for the vault's event log. Other backends ignore it.
  virtual void SetEventPeer(int64_t uid, int64_t pid, const std::string& exe) {}

  virtual Status SeedRandom(SessionHandle session, std::span<const uint8_t> seed) = 0;
  virtual Status GenerateRandom(SessionHandle session, std::span<uint8_t> out) = 0;

  // --- Central provisioning (issue 14; docs/design/provisioning.md) ---
  // certvault's own calls, not PKCS#11: the vault's identity and transport
  // keys, vendor mode, update requests and packages. All need a R/W session
  // with the user logged in (kUserNotLoggedIn, kSessionReadOnly). A backend
  // without them (the daemon client, for now) returns kFunctionNotSupported.
  //
  // CreateVaultKeys: generates the token's identity key (P-256, signs only
  // requests, receipts and the vault's own certificates) and transport key
  // (P-256, only opens update packages) with a self-signed identity
  // certificate and a transport certificate issued by it. kAlreadyExists if
  // the token has them.
  virtual Status CreateVaultKeys(SessionHandle session) { return NotInThisBackend(); }
  struct VaultIdentity {
    std::string token_serial;
    Bytes identity_cert;   // DER
    Bytes transport_cert;  // DER
    Bytes authority_cert;  // DER; empty = user mode (packages are refused)
    uint64_t counter = 0;  // the update counter
  };
  virtual Result<VaultIdentity> GetVaultIdentity(SessionHandle session) { return NotInThisBackend(); }
  // IdentityCsr: a PKCS#10 request for the identity key, signed by it.
  virtual Result<Bytes> IdentityCsr(SessionHandle session, const std::string& subject) { return NotInThisBackend(); }
  // ImportIdentityCert: replaces the identity certificate by `der`, which
  // must certify the identity key (kKeyTypeInconsistent otherwise).
  virtual Status ImportIdentityCert(SessionHandle session, std::span<const uint8_t> der) { return NotInThisBackend(); }
  // PinAuthority: vendor mode: pins the provisioning authority certificate.
  // kAlreadyExists if one is pinned (it changes only by a package it signed).
  virtual Status PinAuthority(SessionHandle session, std::span<const uint8_t> cert_der) { return NotInThisBackend(); }
  // UpdateRequest: a signed request (docs/formats/update-package.md) with a
  // fresh nonce, which the vault remembers (the last 8).
  virtual Result<Bytes> UpdateRequest(SessionHandle session, const std::string& label) { return NotInThisBackend(); }
  // ApplyUpdate: checks `package` (pinned authority, target serial, nonce,
  // expiry, counter = stored + 1), opens it with the transport key, and stores
  // its key and certificates and the new counter in one transaction. Refusals
  // change nothing: kFunctionNotSupported (user mode), kSignatureInvalid,
  // kDataInvalid (malformed, wrong target, nonce, counter or expired),
  // kEncryptedDataInvalid. Returns the receipt signed by the identity key.
  struct ApplyResult {
    Bytes receipt;  // DER CMS SignedData
    Bytes key_id;   // CKA_ID of the stored key and certificate
    uint64_t counter = 0;
  };
  virtual Result<ApplyResult> ApplyUpdate(SessionHandle session, std::span<const uint8_t> package) {
    return NotInThisBackend();
  }
  // Attest: a DER X.509 certificate for token private key `key`'s public key,
  // issued by the identity key, stating in extension cvKeyAttestation how the
  // key came into the vault (generated, imported, provisioned), whether it
  // was never extractable and always sensitive, the token serial and the
  // software version (docs/formats/update-package.md). kKeyHandleInvalid if
  // `key` is not a token private key.
  virtual Result<Bytes> Attest(SessionHandle session, ObjectHandle key) { return NotInThisBackend(); }

 private:
  static Status NotInThisBackend() { return Status(Reason::kFunctionNotSupported, "not supported by this backend"); }
};

// BackendOptions: where the vault is and how to reach it.
struct BackendOptions {
  std::string vault_dir;    // "" = CERTVAULT_HOME / XDG default (see config.h)
  std::string config_path;  // "" = CERTVAULT_CONF or none
  // create_vault: create the vault directory (mode 0700) if it is missing
  // (`certvault init`). Otherwise a missing vault simply has no slots.
  bool create_vault = false;
  // allow_weak_pin: accept PINs shorter than the configured policy, down to
  // 4 characters (`--allow-weak-pin`; embedded mode only: certvaultd applies
  // its own configuration).
  bool allow_weak_pin = false;
  // daemon_socket: certvaultd's socket, chosen by the caller (the provider's
  // openssl.cnf `socket`); "" = CERTVAULT_SOCKET or the config file decides.
  std::string daemon_socket;
  // event_log: write the vault's event log (docs/formats/event-log.md).
  // Only bench/ turns it off, to measure its cost; there is no config key.
  bool event_log = true;
};

// OpenEmbeddedBackend: the vault in this process. A missing vault directory is
// not an error: the backend then reports no tokens until one is initialized
// (certvault init), and read paths never create files.
Result<std::unique_ptr<Backend>> OpenEmbeddedBackend(const BackendOptions& options);

}  // namespace certvault

#endif  // CERTVAULT_CORE_BACKEND_H_
