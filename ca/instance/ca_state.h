// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaState: what must never go backwards for the life of a CA, kept outside
// its database in a private data object of the token, next to the CA keys
// (label "<name>-state"): the last cRLNumber signed per CA and partition,
// the newest revocation id per CA, and the last time the CA signed. Before
// the first signature of a process the database is compared with it, so a
// database restored from an older backup (whose CRL numbers would restart
// lower, and which has lost revocations) is refused instead of signing a CRL
// that goes backwards or answering "good" for a revoked certificate.
//
// Encoding (CKA_VALUE, text, one record per line):
//   certvault-ca-state 1
//   signed <unix time>
//   crl <ca> <partition> <number>
//   revocations <ca> <id>
#ifndef CERTVAULT_CA_INSTANCE_CA_STATE_H_
#define CERTVAULT_CA_INSTANCE_CA_STATE_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca {

struct CaState {
  int64_t last_signed = 0;
  std::map<std::pair<std::string, uint32_t>, int64_t> crl_numbers;  // (ca, partition) -> last number
  std::map<std::string, int64_t> revocation_ids;                      // ca -> newest revocation id

  Bytes Encode() const;
  // Decode: an empty input is the empty state; kDataLoss for anything else
  // that is not the encoding above.
  static Result<CaState> Decode(std::span<const uint8_t> data);
  // Merge: the element-wise maximum of both (what another process recorded
  // meanwhile is kept).
  void Merge(const CaState& other);
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_INSTANCE_CA_STATE_H_
