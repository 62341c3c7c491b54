// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Object: one PKCS#11 object as the core holds it. Non-secret attributes are
// kept in clear; secret ones (policy::IsSecretAttribute, and the private key
// material) are kept sealed under the token key exactly as stored, and opened
// only when an operation needs them. Session objects never reach the disk and
// keep their secrets in wiped memory instead.
#ifndef CERTVAULT_CORE_OBJECT_H_
#define CERTVAULT_CORE_OBJECT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "src/base/result.h"
#include "src/base/secret_bytes.h"
#include "src/model/types.h"
#include "src/storage/record.h"
#include "src/storage/store.h"

namespace certvault::core {

// kCvaKeyMaterial: vendor attribute holding a private key as PKCS#8 DER
// (always sealed; never visible through any interface).
inline constexpr AttributeType kCvaKeyMaterial = CKA_VENDOR_DEFINED | 0x43560001UL;

struct Object {
  storage::ObjectId id = 0;
  storage::TokenId token = 0;
  uint64_t version = 0;
  bool token_object = false;
  SessionHandle owner = 0;  // session objects: the creating session
  AttributeSet attrs;       // non-secret attributes, in clear
  std::vector<storage::RecordEntry> sealed;  // token objects: secret attributes, sealed
  AttributeSet secrets;     // session objects: secret attributes, in clear (wiped memory)
  // Token objects (docs/formats/integrity.md): the stored record's MAC (empty
  // for an unauthenticated record), and whether it was verified on load.
  Bytes record_mac;
  bool verified = false;

  ObjectClass object_class() const { return attrs.GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED); }
  bool is_private() const { return attrs.GetBoolOr(CKA_PRIVATE, true); }
  bool HasSecret(AttributeType type) const;
};

// SplitSecrets: moves the secret attributes of `all` into the returned set.
AttributeSet SplitSecrets(AttributeSet* all);

// SealSecrets: for a token object, seals `secrets` under `token_key` (AAD =
// object id | attribute type) into obj->sealed. REQUIRES obj->id is final.
Status SealSecrets(const SecretBytes& token_key, const AttributeSet& secrets, Object* obj);

// ReplaceSealedSecrets: seals each of `secrets` under `token_key` into
// obj->sealed, replacing the sealed value of the same type if there is one and
// keeping the others (C_SetAttributeValue of a sealed attribute).
// kUserNotLoggedIn if `secrets` is not empty and `token_key` is.
// REQUIRES obj->id is final.
Status ReplaceSealedSecrets(const SecretBytes& token_key, const AttributeSet& secrets, Object* obj);

// OpenSecret: the clear value of secret attribute `type` of `obj`.
// kUserNotLoggedIn if a token object's secret is needed without the token key;
// kCorruptStore if a sealed value fails authentication.
Result<SecureVector> OpenSecret(const Object& obj, AttributeType type, const SecretBytes* token_key);

// MayBeUnauthenticated: whether `obj` may be stored without a record MAC
// (written while nobody is logged in): a public certificate, public key or
// data object without secrets and without CKA_TRUSTED=TRUE.
bool MayBeUnauthenticated(const Object& obj);

// ToRow: the storage form of token object `obj` at obj.version. With
// `integrity_key` the record carries its MAC (integrity.h); without it the
// record is unauthenticated, which only MayBeUnauthenticated objects may be
// (else kUserNotLoggedIn).
Result<storage::ObjectRow> ToRow(const Object& obj, const SecretBytes* integrity_key);
// FromRow: the object stored in `row`. Always checks that the row's indexed
// columns (class, label, id, private) agree with its record. With
// `integrity_key` (someone is logged in) it also verifies the record: a MAC
// that fails, a version-1 record, or an unauthenticated record of an object
// that must be authenticated is kCorruptStore naming the object. Without the
// key, the object is returned unverified (verified = false).
Result<std::shared_ptr<Object>> FromRow(const storage::ObjectRow& row, const SecretBytes* integrity_key);

// NewObjectId: a random id in [1, 2^62).
Result<storage::ObjectId> NewObjectId();

}  // namespace certvault::core

#endif  // CERTVAULT_CORE_OBJECT_H_
