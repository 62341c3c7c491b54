// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/object.h"

#include <algorithm>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/core/integrity.h"
#include "src/core/policy.h"
#include "src/crypto/aead.h"
#include "src/crypto/random.h"

namespace certvault::core {
namespace {

Bytes SealAad(storage::ObjectId id, AttributeType type) {
  Bytes aad;
  ByteWriter<Bytes> w(&aad);
  w.WriteU64(id);
  w.WriteU64(type);
  return aad;
}

bool IsSecret(ObjectClass cls, AttributeType type) {
  return type == kCvaKeyMaterial || policy::IsSecretAttribute(cls, type);
}

Bytes AttrBytes(const AttributeSet& attrs, AttributeType type) {
  auto v = attrs.GetBytes(type);
  return v ? Bytes(v->begin(), v->end()) : Bytes();
}

}  // namespace

bool Object::HasSecret(AttributeType type) const {
  if (secrets.Has(type)) return true;
  return std::any_of(sealed.begin(), sealed.end(), [type](const auto& e) { return e.type == type; });
}

AttributeSet SplitSecrets(AttributeSet* all) {
  ObjectClass cls = all->GetUlong(CKA_CLASS).value_or(CKO_VENDOR_DEFINED);
  // The value of a private data object is sealed too (it may be anything).
  bool private_data = cls == CKO_DATA && all->GetBoolOr(CKA_PRIVATE, false);
  AttributeSet secrets;
  std::vector<AttributeType> moved;
  for (const Attribute& a : all->items()) {
    if (IsSecret(cls, a.type) || (private_data && a.type == CKA_VALUE)) {
      secrets.Set(a.type, a.value);
      moved.push_back(a.type);
    }
  }
  for (AttributeType t : moved) all->Erase(t);
  return secrets;
}

Status SealSecrets(const SecretBytes& token_key, const AttributeSet& secrets, Object* obj) {
  obj->sealed.clear();
  return ReplaceSealedSecrets(token_key, secrets, obj);
}

Status ReplaceSealedSecrets(const SecretBytes& token_key, const AttributeSet& secrets, Object* obj) {
  if (!secrets.empty() && token_key.empty()) {
    return Status(Reason::kUserNotLoggedIn, "sealing a secret attribute needs a logged-in user");
  }
  for (const Attribute& a : secrets.items()) {
    storage::RecordEntry entry;
    entry.type = a.type;
    entry.sealed = true;
    CV_ASSIGN_OR_RETURN(entry.value, crypto::AeadSeal(token_key, SealAad(obj->id, a.type), a.value));
    // One entry per type: a record lists each type once (docs/formats/record.md).
    auto it = std::find_if(obj->sealed.begin(), obj->sealed.end(), [&a](const auto& e) { return e.type == a.type; });
    if (it != obj->sealed.end()) {
      *it = std::move(entry);
    } else {
      obj->sealed.push_back(std::move(entry));
    }
  }
  return OkStatus();
}

Result<SecureVector> OpenSecret(const Object& obj, AttributeType type, const SecretBytes* token_key) {
  if (const Attribute* a = obj.secrets.Find(type)) return a->value;
  auto it = std::find_if(obj.sealed.begin(), obj.sealed.end(), [type](const auto& e) { return e.type == type; });
  if (it == obj.sealed.end()) return Status(Reason::kAttributeTypeInvalid, "object has no such attribute");
  if (token_key == nullptr || token_key->empty()) {
    return Status(Reason::kUserNotLoggedIn, "the object's secret needs a logged-in user");
  }
  Result<SecureVector> clear = crypto::AeadOpen(*token_key, SealAad(obj.id, type), it->value);
  if (!clear.ok()) return Status(Reason::kCorruptStore, "a sealed attribute failed authentication");
  return clear;
}

Result<storage::ObjectRow> ToRow(const Object& obj, const SecretBytes* integrity_key) {
  if (integrity_key == nullptr && !MayBeUnauthenticated(obj)) {
    return Status(Reason::kUserNotLoggedIn, "storing this object needs a logged-in user");
  }
  std::vector<storage::RecordEntry> entries;
  entries.reserve(obj.attrs.size() + obj.sealed.size());
  for (const Attribute& a : obj.attrs.items()) entries.push_back({a.type, false, a.value});
  for (const storage::RecordEntry& e : obj.sealed) entries.push_back({e.type, true, e.value});
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.type < b.type; });
  storage::ObjectRow row;
  row.object_id = obj.id;
  row.token_id = obj.token;
  row.object_class = obj.object_class();
  row.label = AttrBytes(obj.attrs, CKA_LABEL);
  row.ckid = AttrBytes(obj.attrs, CKA_ID);
  row.is_private = obj.is_private();
  row.version = obj.version;
  Bytes body = storage::EncodeRecordBody(entries);
  if (integrity_key == nullptr) {
    row.record = storage::EncodeRecord({}, body);
    return row;
  }
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, RecordMac(*integrity_key, obj.token, obj.id, obj.version, body));
  row.record = storage::EncodeRecord(mac, body);
  return row;
}

bool MayBeUnauthenticated(const Object& obj) {
  ObjectClass cls = obj.object_class();
  bool public_class = cls == CKO_CERTIFICATE || cls == CKO_PUBLIC_KEY || cls == CKO_DATA;
  return public_class && !obj.is_private() && obj.sealed.empty() && obj.secrets.empty() &&
         !obj.attrs.GetBoolOr(CKA_TRUSTED, false);
}

namespace {

// CheckColumns: the indexed columns must say what the record says, or a
// lookup by label/id/class (or the public/private filter) would pick an
// object the record does not describe.
Status CheckColumns(const storage::ObjectRow& row, const Object& obj) {
  if (row.object_class != obj.object_class() || row.label != AttrBytes(obj.attrs, CKA_LABEL) ||
      row.ckid != AttrBytes(obj.attrs, CKA_ID) || row.is_private != obj.is_private()) {
    return ObjectFailed(row.object_id, row.label, "its indexed columns disagree with its record");
  }
  return OkStatus();
}

// VerifyRecord: see FromRow.
Status VerifyRecord(const storage::ObjectRow& row, const storage::RecordHeader& header, const SecretBytes& key,
                    Object* obj) {
  if (header.version == 1) return ObjectFailed(row.object_id, row.label, "it has a legacy record without a MAC");
  if (header.mac.empty()) {
    if (!MayBeUnauthenticated(*obj)) return ObjectFailed(row.object_id, row.label, "its record MAC is missing");
    return OkStatus();  // a public object stored while nobody was logged in
  }
  CV_ASSIGN_OR_RETURN(crypto::MacTag want, RecordMac(key, row.token_id, row.object_id, row.version, header.body));
  if (!crypto::MacEqual(want, header.mac)) return ObjectFailed(row.object_id, row.label, "its record MAC is wrong");
  obj->verified = true;
  return OkStatus();
}

}  // namespace

Result<std::shared_ptr<Object>> FromRow(const storage::ObjectRow& row, const SecretBytes* integrity_key) {
  CV_ASSIGN_OR_RETURN(storage::RecordHeader header, storage::ParseRecordHeader(row.record));
  CV_ASSIGN_OR_RETURN(std::vector<storage::RecordEntry> entries, storage::DecodeRecord(row.record));
  auto obj = std::make_shared<Object>();
  obj->id = row.object_id;
  obj->token = row.token_id;
  obj->version = row.version;
  obj->token_object = true;
  for (storage::RecordEntry& e : entries) {
    if (e.sealed) {
      obj->sealed.push_back(std::move(e));
    } else {
      obj->attrs.Set(e.type, e.value);
    }
  }
  if (!obj->attrs.GetUlong(CKA_CLASS)) return Status(Reason::kCorruptStore, "stored object has no class");
  obj->record_mac.assign(header.mac.begin(), header.mac.end());
  CV_RETURN_IF_ERROR(CheckColumns(row, *obj));
  if (integrity_key != nullptr) CV_RETURN_IF_ERROR(VerifyRecord(row, header, *integrity_key, obj.get()));
  return obj;
}

Result<storage::ObjectId> NewObjectId() {
  uint8_t buf[8];
  CV_RETURN_IF_ERROR(crypto::RandomBytes(buf));
  uint64_t v = 0;
  for (uint8_t b : buf) v = v << 8 | b;
  v &= (uint64_t{1} << 62) - 1;
  return v == 0 ? 1 : v;
}

}  // namespace certvault::core
