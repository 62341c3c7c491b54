// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// template_fuzzer: the PKCS#11 attribute template parser (src/pkcs11/template.h).
// The input describes a CK_ATTRIBUTE array: a count, then per entry a type
// (from a list of interesting ones, or raw), a length, a value and whether
// pValue is NULL. Declared lengths never exceed the bytes provided, as the
// C caller's memory would be. The parsed set is then run back through
// FillTemplate with per-entry outcomes also chosen by the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <vector>

#include "src/pkcs11/template.h"

namespace {

constexpr CK_ATTRIBUTE_TYPE kTypes[] = {
    CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_VALUE, CKA_KEY_TYPE, CKA_ID, CKA_SENSITIVE,
    CKA_SIGN, CKA_MODULUS_BITS, CKA_VALUE_LEN, CKA_EC_PARAMS, CKA_ALLOWED_MECHANISMS, CKA_WRAP_TEMPLATE,
    CKA_PUBLIC_EXPONENT, CKA_VENDOR_DEFINED};

struct Entry {
  CK_ATTRIBUTE_TYPE type;
  std::vector<uint8_t> value;
  CK_ULONG declared_len;
  bool null_value;
};

Entry ConsumeEntry(FuzzedDataProvider& in) {
  Entry e;
  e.type = in.ConsumeBool() ? in.PickValueInArray(kTypes) : in.ConsumeIntegral<CK_ATTRIBUTE_TYPE>();
  e.value = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 64));
  e.declared_len = in.ConsumeIntegralInRange<CK_ULONG>(0, e.value.size());
  e.null_value = in.ConsumeIntegralInRange<int>(0, 7) == 0;
  if (e.null_value) e.declared_len = in.ConsumeBool() ? 0 : e.declared_len;
  return e;
}

void RoundTrip(FuzzedDataProvider& in, CK_ATTRIBUTE* tmpl, CK_ULONG count) {
  auto requests = certvault::pkcs11::MakeRequests(tmpl, count);
  if (!requests.ok()) return;
  for (certvault::AttributeRequest& r : *requests) {
    int outcome = in.ConsumeIntegralInRange<int>(0, 3);
    if (outcome == 1) r.status = certvault::Reason::kAttributeSensitive;
    if (outcome == 2) r.status = certvault::Reason::kAttributeTypeInvalid;
    if (outcome == 3) r.value.assign(in.ConsumeIntegralInRange<size_t>(0, 96), 0xA5);
  }
  (void)certvault::pkcs11::FillTemplate(*requests, tmpl, count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  size_t count = in.ConsumeIntegralInRange<size_t>(0, 40);
  std::vector<Entry> entries;
  for (size_t i = 0; i < count && in.remaining_bytes() > 0; ++i) entries.push_back(ConsumeEntry(in));
  std::vector<CK_ATTRIBUTE> tmpl;
  for (Entry& e : entries) {
    tmpl.push_back(CK_ATTRIBUTE{e.type, e.null_value ? nullptr : e.value.data(), e.declared_len});
  }
  CK_ATTRIBUTE* p = tmpl.empty() ? nullptr : tmpl.data();
  (void)certvault::pkcs11::ParseTemplate(p, tmpl.size());
  RoundTrip(in, p, tmpl.size());
  return 0;
}
