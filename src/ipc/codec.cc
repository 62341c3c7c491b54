// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/ipc/codec.h"

#include <limits>
#include <type_traits>

namespace certvault::ipc {
namespace {

// Mechanism parameter tags: the index of the alternative in MechanismParams.
enum ParamTag : uint8_t { kNoParams = 0, kBytes, kRsaPss, kRsaOaep, kGcm, kEcdh1, kEddsa, kAesCtr, kParamTagLimit };
static_assert(std::variant_size_v<MechanismParams> == kParamTagLimit, "a MechanismParams tag per alternative");

// GetCount: a u32 count whose elements each take at least `min_size` bytes.
bool GetCount(Decoder& d, size_t min_size, uint32_t* n) { return d.ReadU32(n) && *n <= d.remaining() / min_size; }

void PutBytes(Encoder& e, const Bytes& v) { e.WriteU32LengthPrefixed(v); }
bool GetBytes(Decoder& d, Bytes* v) {
  std::span<const uint8_t> s;
  if (!d.ReadU32LengthPrefixed(&s)) return false;
  v->assign(s.begin(), s.end());
  return true;
}

void PutParams(Encoder& e, const MechanismParams& p) {
  e.WriteU8(static_cast<uint8_t>(p.index()));
  if (const auto* b = std::get_if<Bytes>(&p)) {
    PutBytes(e, *b);
  } else if (const auto* pss = std::get_if<RsaPssParams>(&p)) {
    PutAll(e, pss->hash_alg, pss->mgf, pss->salt_len);
  } else if (const auto* oaep = std::get_if<RsaOaepParams>(&p)) {
    PutAll(e, oaep->hash_alg, oaep->mgf, oaep->source);
    PutBytes(e, oaep->label);
  } else if (const auto* gcm = std::get_if<GcmParams>(&p)) {
    PutBytes(e, gcm->iv);
    Put(e, gcm->iv_bits);
    PutBytes(e, gcm->aad);
    Put(e, gcm->tag_bits);
  } else if (const auto* ecdh = std::get_if<Ecdh1DeriveParams>(&p)) {
    Put(e, ecdh->kdf);
    PutBytes(e, ecdh->shared_data);
    PutBytes(e, ecdh->public_data);
  } else if (const auto* ed = std::get_if<EddsaParams>(&p)) {
    Put(e, ed->ph_flag);
    PutBytes(e, ed->context);
  } else if (const auto* ctr = std::get_if<AesCtrParams>(&p)) {
    Put(e, ctr->counter_bits);
    PutBytes(e, ctr->counter_block);
  }
}

bool GetParams(Decoder& d, MechanismParams* p) {
  uint8_t tag = 0;
  if (!d.ReadU8(&tag)) return false;
  switch (tag) {
    case kNoParams:
      *p = std::monostate{};
      return true;
    case kBytes:
      return GetBytes(d, &p->emplace<Bytes>());
    case kRsaPss: {
      auto& v = p->emplace<RsaPssParams>();
      return GetFields(d, &v.hash_alg, &v.mgf, &v.salt_len);
    }
    case kRsaOaep: {
      auto& v = p->emplace<RsaOaepParams>();
      return GetFields(d, &v.hash_alg, &v.mgf, &v.source) && GetBytes(d, &v.label);
    }
    case kGcm: {
      auto& v = p->emplace<GcmParams>();
      return GetBytes(d, &v.iv) && Get(d, &v.iv_bits) && GetBytes(d, &v.aad) && Get(d, &v.tag_bits);
    }
    case kEcdh1: {
      auto& v = p->emplace<Ecdh1DeriveParams>();
      return Get(d, &v.kdf) && GetBytes(d, &v.shared_data) && GetBytes(d, &v.public_data);
    }
    case kEddsa: {
      auto& v = p->emplace<EddsaParams>();
      return Get(d, &v.ph_flag) && GetBytes(d, &v.context);
    }
    case kAesCtr: {
      auto& v = p->emplace<AesCtrParams>();
      return Get(d, &v.counter_bits) && GetBytes(d, &v.counter_block);
    }
    default:
      return false;
  }
}

}  // namespace

void Put(Encoder& e, uint64_t v) { e.WriteU64(v); }
void Put(Encoder& e, uint32_t v) { e.WriteU32(v); }
void Put(Encoder& e, bool v) { e.WriteU8(v ? 1 : 0); }
void Put(Encoder& e, std::string_view v) { e.WriteU32LengthPrefixed(AsSpan(v)); }
void Put(Encoder& e, std::span<const uint8_t> v) { e.WriteU32LengthPrefixed(v); }
void Put(Encoder& e, const SecretBytes& v) { e.WriteU32LengthPrefixed(v.Bytes(SecretAccess::Get())); }
void Put(Encoder& e, UserType v) { e.WriteU8(static_cast<uint8_t>(v)); }
void Put(Encoder& e, Backend::OperationKind v) { e.WriteU8(static_cast<uint8_t>(v)); }
void Put(Encoder& e, const Backend::TokenOptions& v) { PutAll(e, v.capacity, v.user_pin_must_change); }
void Put(Encoder& e, const Backend::KeyPair& v) { PutAll(e, v.public_key, v.private_key); }
void Put(Encoder& e, const OutSpec& v) { PutAll(e, v.has_buffer, v.capacity); }

void Put(Encoder& e, const Status& v) {
  e.WriteU8(static_cast<uint8_t>(v.code()));
  e.WriteU16(static_cast<uint16_t>(v.reason()));
  std::string_view msg = v.message().substr(0, 0xffff);
  e.WriteU16(static_cast<uint16_t>(msg.size()));
  e.WriteBytes(AsSpan(msg));
}

void Put(Encoder& e, const AttributeSet& v) {
  e.WriteU32(static_cast<uint32_t>(v.size()));
  for (const Attribute& a : v.items()) {
    e.WriteU64(a.type);
    e.WriteU32LengthPrefixed(a.value);
  }
}

void Put(Encoder& e, const Mechanism& v) {
  e.WriteU64(v.type);
  PutParams(e, v.params);
}

void Put(Encoder& e, const MechanismInfo& v) { PutAll(e, v.type, v.min_key_size, v.max_key_size, v.flags); }

void Put(Encoder& e, const SlotInfo& v) {
  PutAll(e, v.id, std::string_view(v.description), std::string_view(v.manufacturer), v.flags);
}

void Put(Encoder& e, const TokenInfo& v) {
  PutAll(e, std::string_view(v.label), std::string_view(v.manufacturer), std::string_view(v.model),
         std::string_view(v.serial));
  PutAll(e, v.flags, v.max_session_count, v.session_count, v.max_rw_session_count, v.rw_session_count, v.max_pin_len,
         v.min_pin_len, v.total_public_memory, v.free_public_memory, v.total_private_memory, v.free_private_memory);
  e.WriteBytes(std::span<const uint8_t>(v.hardware_version, 2));
  e.WriteBytes(std::span<const uint8_t>(v.firmware_version, 2));
  Put(e, std::string_view(v.utc_time));
}

void Put(Encoder& e, const SessionInfo& v) { PutAll(e, v.slot, v.state, v.flags, v.device_error); }

void Put(Encoder& e, const std::vector<uint64_t>& v) {
  e.WriteU32(static_cast<uint32_t>(v.size()));
  for (uint64_t x : v) e.WriteU64(x);
}

void Put(Encoder& e, const std::vector<MechanismInfo>& v) {
  e.WriteU32(static_cast<uint32_t>(v.size()));
  for (const MechanismInfo& m : v) Put(e, m);
}

void PutAttributeTypes(Encoder& e, const std::vector<AttributeRequest>& v) {
  e.WriteU32(static_cast<uint32_t>(v.size()));
  for (const AttributeRequest& r : v) e.WriteU64(r.type);
}

void PutAttributeReplies(Encoder& e, const std::vector<AttributeRequest>& v) {
  e.WriteU32(static_cast<uint32_t>(v.size()));
  for (const AttributeRequest& r : v) {
    e.WriteU16(static_cast<uint16_t>(r.status));
    e.WriteU32LengthPrefixed(r.value);
  }
}

bool Get(Decoder& d, uint64_t* v) { return d.ReadU64(v); }
bool Get(Decoder& d, uint32_t* v) { return d.ReadU32(v); }

bool Get(Decoder& d, bool* v) {
  uint8_t b = 0;
  if (!d.ReadU8(&b) || b > 1) return false;
  *v = b == 1;
  return true;
}

bool Get(Decoder& d, std::string* v) {
  std::span<const uint8_t> s;
  if (!d.ReadU32LengthPrefixed(&s)) return false;
  v->assign(AsStringView(s));
  return true;
}

bool Get(Decoder& d, std::span<const uint8_t>* v) { return d.ReadU32LengthPrefixed(v); }

bool Get(Decoder& d, SecretBytes* v) {
  std::span<const uint8_t> s;
  if (!d.ReadU32LengthPrefixed(&s)) return false;
  *v = SecretBytes(s, SecretAccess::Get());
  return true;
}

bool Get(Decoder& d, UserType* v) {
  uint8_t b = 0;
  if (!d.ReadU8(&b)) return false;
  *v = static_cast<UserType>(b);  // passed through: the backend rejects unknown types as embedded does
  return true;
}

bool Get(Decoder& d, Backend::OperationKind* v) {
  uint8_t b = 0;
  if (!d.ReadU8(&b) || b > static_cast<uint8_t>(Backend::OperationKind::kVerify)) return false;
  *v = static_cast<Backend::OperationKind>(b);
  return true;
}

bool Get(Decoder& d, Backend::TokenOptions* v) { return GetFields(d, &v->capacity, &v->user_pin_must_change); }
bool Get(Decoder& d, Backend::KeyPair* v) { return GetFields(d, &v->public_key, &v->private_key); }
bool Get(Decoder& d, OutSpec* v) { return GetFields(d, &v->has_buffer, &v->capacity); }

bool Get(Decoder& d, Status* v) {
  uint8_t code = 0;
  uint16_t reason = 0, len = 0;
  std::span<const uint8_t> msg;
  if (!d.ReadU8(&code) || !d.ReadU16(&reason) || !d.ReadU16(&len) || !d.ReadBytes(len, &msg)) return false;
  if (code > static_cast<uint8_t>(StatusCode::kUnauthenticated)) return false;
  if (code == 0) {
    if (reason != 0 || len != 0) return false;
    *v = OkStatus();
    return true;
  }
  *v = Status(static_cast<StatusCode>(code), static_cast<Reason>(reason), AsStringView(msg));
  return true;
}

bool Get(Decoder& d, AttributeSet* v) {
  uint32_t n = 0;
  if (!GetCount(d, 12, &n)) return false;
  *v = AttributeSet();
  uint64_t prev = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t type = 0;
    std::span<const uint8_t> value;
    if (!d.ReadU64(&type) || !d.ReadU32LengthPrefixed(&value)) return false;
    if (i > 0 && type <= prev) return false;  // sorted, one per type, as AttributeSet holds them
    prev = type;
    v->Set(type, value);
  }
  return true;
}

bool Get(Decoder& d, Mechanism* v) { return d.ReadU64(&v->type) && GetParams(d, &v->params); }

bool Get(Decoder& d, MechanismInfo* v) { return GetFields(d, &v->type, &v->min_key_size, &v->max_key_size, &v->flags); }

bool Get(Decoder& d, SlotInfo* v) { return GetFields(d, &v->id, &v->description, &v->manufacturer, &v->flags); }

bool Get(Decoder& d, TokenInfo* v) {
  std::span<const uint8_t> hw, fw;
  bool ok = GetFields(d, &v->label, &v->manufacturer, &v->model, &v->serial) &&
            GetFields(d, &v->flags, &v->max_session_count, &v->session_count, &v->max_rw_session_count,
                      &v->rw_session_count, &v->max_pin_len, &v->min_pin_len, &v->total_public_memory,
                      &v->free_public_memory, &v->total_private_memory, &v->free_private_memory) &&
            d.ReadBytes(2, &hw) && d.ReadBytes(2, &fw) && Get(d, &v->utc_time);
  if (!ok) return false;
  v->hardware_version[0] = hw[0];
  v->hardware_version[1] = hw[1];
  v->firmware_version[0] = fw[0];
  v->firmware_version[1] = fw[1];
  return true;
}

bool Get(Decoder& d, SessionInfo* v) { return GetFields(d, &v->slot, &v->state, &v->flags, &v->device_error); }

bool Get(Decoder& d, std::vector<uint64_t>* v) {
  uint32_t n = 0;
  if (!GetCount(d, 8, &n)) return false;
  v->resize(n);
  for (uint64_t& x : *v) {
    if (!d.ReadU64(&x)) return false;
  }
  return true;
}

bool Get(Decoder& d, std::vector<MechanismInfo>* v) {
  uint32_t n = 0;
  if (!GetCount(d, 32, &n)) return false;
  v->resize(n);
  for (MechanismInfo& m : *v) {
    if (!Get(d, &m)) return false;
  }
  return true;
}

bool GetAttributeTypes(Decoder& d, std::vector<AttributeRequest>* v) {
  uint32_t n = 0;
  if (!GetCount(d, 8, &n)) return false;
  v->clear();
  v->resize(n);
  for (AttributeRequest& r : *v) {
    if (!d.ReadU64(&r.type)) return false;
  }
  return true;
}

bool GetAttributeReplies(Decoder& d, std::vector<AttributeRequest>* v) {
  uint32_t n = 0;
  if (!GetCount(d, 6, &n) || n != v->size()) return false;
  for (AttributeRequest& r : *v) {
    uint16_t reason = 0;
    std::span<const uint8_t> value;
    if (!d.ReadU16(&reason) || !d.ReadU32LengthPrefixed(&value)) return false;
    r.status = static_cast<Reason>(reason);
    r.value.assign(value.begin(), value.end());
  }
  return true;
}

}  // namespace certvault::ipc
