// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
// Temporary: entry points not implemented yet (replaced in the next commits).
#include "src/crypto/random.h"
#include "src/engine/ops.h"

namespace certvault::engine {

bool IsAesCipherMech(MechanismType) { return false; }
bool IsRsaCipherMech(MechanismType) { return false; }
Result<OpPtr> NewAesOp(OpKind, const Mechanism&, std::shared_ptr<const ReadyKey>) {
  return Status(Reason::kMechanismInvalid, "not implemented");
}
Result<OpPtr> NewRsaCipherOp(OpKind, const Mechanism&, std::shared_ptr<const ReadyKey>) {
  return Status(Reason::kMechanismInvalid, "not implemented");
}
Result<SecureVector> WrapKey(const Mechanism&, const ReadyKey&, const ReadyKey&) {
  return Status(Reason::kMechanismInvalid, "not implemented");
}
Result<NewKey> UnwrapKey(const Mechanism&, const ReadyKey&, std::span<const uint8_t>, ObjectClass, KeyType) {
  return Status(Reason::kMechanismInvalid, "not implemented");
}
Result<NewKey> DeriveKey(const Mechanism&, const ReadyKey&, const AttributeSet&) {
  return Status(Reason::kMechanismInvalid, "not implemented");
}
const std::vector<MechanismInfo>& Mechanisms() {
  static const std::vector<MechanismInfo> empty;
  return empty;
}
Status RandomBytes(std::span<uint8_t> out) { return crypto::RandomBytes(out); }

}  // namespace certvault::engine
