// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Vault access for the CLI, strictly through certvault::Backend (the embedded
// backend today, the daemon client later): token lookup, an RAII session,
// object search by label / id / pkcs11: URI, attribute reads and signing.
#ifndef CERTVAULT_CLI_VAULT_H_
#define CERTVAULT_CLI_VAULT_H_

#include <optional>
#include <string>
#include <vector>

#include "src/model/pkcs11_uri.h"
#include "src/base/result.h"
#include "src/core/backend.h"

namespace certvault::cli {

struct TokenRef {
  SlotId slot = 0;
  TokenInfo info;
  std::string label;  // info.label without padding
};

// ListTokens: the initialized tokens, in slot order.
Result<std::vector<TokenRef>> ListTokens(Backend* backend);
// FindToken: the token labelled `label`; with no label, the only token.
// kTokenNotPresent (exit 2) with a hint when none or several match.
Result<TokenRef> FindToken(Backend* backend, const std::optional<std::string>& label);
// FindFreeSlot: a slot whose token is not initialized yet.
Result<SlotId> FindFreeSlot(Backend* backend);
// TokenUri: pkcs11:token=...;manufacturer=...;serial=...;model=...
Pkcs11Uri TokenUri(const TokenRef& token);

// Session: an open session, closed on destruction (logout is implicit).
class Session {
 public:
  static Result<Session> Open(Backend* backend, SlotId slot, bool read_write);
  ~Session();
  Session(Session&& other) noexcept;
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;

  // Login: C_Login. A successful user login keeps the PIN (wiped with the
  // session) for the context-specific logins of Sign.
  Status Login(UserType user, const SecretBytes& pin);
  Backend* backend() const { return backend_; }
  SessionHandle handle() const { return handle_; }

  // Find: all objects matching `tmpl`.
  Result<std::vector<ObjectHandle>> Find(const AttributeSet& tmpl);
  // Attribute: the value, or nullopt if absent/sensitive.
  Result<std::optional<Bytes>> Attribute(ObjectHandle object, AttributeType type);
  // Sign: single-part C_SignInit + C_Sign with a length query. A key with
  // CKA_ALWAYS_AUTHENTICATE gets C_Login(CKU_CONTEXT_SPECIFIC) with the
  // user's PIN after C_SignInit (PKCS#11 v3.0 §4.9).
  Result<Bytes> Sign(const Mechanism& mech, ObjectHandle key, std::span<const uint8_t> data);

 private:
  Session(Backend* backend, SessionHandle handle) : backend_(backend), handle_(handle) {}
  Backend* backend_;
  SessionHandle handle_;
  SecretBytes user_pin_;  // empty unless the user logged in through Login
};

// ObjectSelector: which objects a command acts on. Built from a label, a
// pkcs11: URI, --id and --token; absent fields match anything.
struct ObjectSelector {
  std::optional<std::string> token;
  std::optional<std::string> label;
  std::optional<Bytes> id;
  std::optional<ObjectClass> object_class;
  // From the URI query: pin-value, or the file named by pin-source.
  std::optional<SecretBytes> pin;
  std::optional<std::string> pin_source;
  AttributeSet Template() const;
};

// MakeSelector: `name` is a label or a pkcs11: URI (may be empty if --id
// names the object); `id_hex` is the --id value. kArgumentsBad if malformed,
// or if the URI's token contradicts `token`.
Result<ObjectSelector> MakeSelector(const std::optional<std::string>& name, const std::optional<std::string>& id_hex,
                                    const std::optional<std::string>& token);

// ObjectInfo: what listings print about one object.
struct ObjectInfo {
  ObjectHandle handle = 0;
  ObjectClass object_class = 0;
  std::optional<KeyType> key_type;
  std::string label;
  Bytes id;
  // Keys: the lifecycle attributes (src/model/vendor_attributes.h) and the
  // crypto-period, as stored (absent state: a key from before states).
  AttributeSet lifecycle;
};
Result<ObjectInfo> DescribeObject(Session& session, ObjectHandle object);
// ObjectUri: the object's pkcs11: URI on `token`.
Pkcs11Uri ObjectUri(const TokenRef& token, const ObjectInfo& info);

// FindOne: the single object matching; kObjectHandleInvalid (exit 2) if none,
// kArgumentsBad if several (with a hint to add --id or type=).
Result<ObjectInfo> FindOne(Session& session, const ObjectSelector& selector, std::string_view what);

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_VAULT_H_
