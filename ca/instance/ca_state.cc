// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/ca_state.h"

#include <sstream>

#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr std::string_view kMagic = "certvault-ca-state 1";

Status Corrupt() { return DataLossError("the CA state object in the token is malformed"); }

}  // namespace

Bytes CaState::Encode() const {
  std::ostringstream out;
  out << kMagic << "\nsigned " << last_signed << "\n";
  for (const auto& [key, number] : crl_numbers) out << "crl " << key.first << " " << key.second << " " << number << "\n";
  for (const auto& [ca, id] : revocation_ids) out << "revocations " << ca << " " << id << "\n";
  std::string s = out.str();
  return Bytes(s.begin(), s.end());
}

Result<CaState> CaState::Decode(std::span<const uint8_t> data) {
  CaState state;
  if (data.empty()) return state;
  std::istringstream in(std::string(data.begin(), data.end()));
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return Corrupt();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, ca;
    fields >> kind;
    if (kind == "signed") {
      if (!(fields >> state.last_signed)) return Corrupt();
    } else if (kind == "crl") {
      uint32_t part = 0;
      int64_t number = 0;
      if (!(fields >> ca >> part >> number)) return Corrupt();
      state.crl_numbers[{ca, part}] = number;
    } else if (kind == "revocations") {
      int64_t id = 0;
      if (!(fields >> ca >> id)) return Corrupt();
      state.revocation_ids[ca] = id;
    } else {
      return Corrupt();
    }
  }
  return state;
}

void CaState::Merge(const CaState& other) {
  last_signed = std::max(last_signed, other.last_signed);
  for (const auto& [key, number] : other.crl_numbers) crl_numbers[key] = std::max(crl_numbers[key], number);
  for (const auto& [ca, id] : other.revocation_ids) revocation_ids[ca] = std::max(revocation_ids[ca], id);
}

}  // namespace certvault::ca
