// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/model/types.h"

#include <algorithm>
#include <cstring>

namespace certvault {
namespace {

static_assert(sizeof(CK_ULONG) == sizeof(uint64_t), "certvault targets LP64 platforms");

template <typename Items>
auto LowerBound(Items& items, AttributeType type) {
  return std::lower_bound(items.begin(), items.end(), type,
                          [](const Attribute& a, AttributeType t) { return a.type < t; });
}

}  // namespace

SecureVector EncodeUlong(uint64_t v) {
  CK_ULONG native = static_cast<CK_ULONG>(v);
  SecureVector out(sizeof(native));
  std::memcpy(out.data(), &native, sizeof(native));
  return out;
}

SecureVector EncodeBool(bool v) { return SecureVector{static_cast<uint8_t>(v ? CK_TRUE : CK_FALSE)}; }

void AttributeSet::Set(AttributeType type, std::span<const uint8_t> value) {
  auto it = LowerBound(items_, type);
  if (it != items_.end() && it->type == type) {
    it->value.assign(value.begin(), value.end());
    return;
  }
  Attribute attr;
  attr.type = type;
  attr.value.assign(value.begin(), value.end());
  items_.insert(it, std::move(attr));
}

void AttributeSet::SetBool(AttributeType type, bool value) { Set(type, EncodeBool(value)); }
void AttributeSet::SetUlong(AttributeType type, uint64_t value) { Set(type, EncodeUlong(value)); }
void AttributeSet::SetString(AttributeType type, std::string_view value) {
  Set(type, {reinterpret_cast<const uint8_t*>(value.data()), value.size()});
}

bool AttributeSet::Erase(AttributeType type) {
  auto it = LowerBound(items_, type);
  if (it == items_.end() || it->type != type) return false;
  items_.erase(it);
  return true;
}

const Attribute* AttributeSet::Find(AttributeType type) const {
  auto it = LowerBound(items_, type);
  return (it != items_.end() && it->type == type) ? &*it : nullptr;
}

std::optional<bool> AttributeSet::GetBool(AttributeType type) const {
  const Attribute* a = Find(type);
  if (a == nullptr || a->value.size() != 1) return std::nullopt;
  return a->value[0] != CK_FALSE;
}

std::optional<uint64_t> AttributeSet::GetUlong(AttributeType type) const {
  const Attribute* a = Find(type);
  if (a == nullptr || a->value.size() != sizeof(CK_ULONG)) return std::nullopt;
  CK_ULONG v;
  std::memcpy(&v, a->value.data(), sizeof(v));
  return static_cast<uint64_t>(v);
}

std::optional<std::span<const uint8_t>> AttributeSet::GetBytes(AttributeType type) const {
  const Attribute* a = Find(type);
  if (a == nullptr) return std::nullopt;
  return std::span<const uint8_t>(a->value);
}

}  // namespace certvault
