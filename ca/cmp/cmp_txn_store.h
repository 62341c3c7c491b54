// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The CMP transactionID map (transactionID -> serial of the certificate
// issued in that transaction, so that a repeated ir/cr/p10cr/kur gets the
// same certificate: RFC 9483 §3.5 / RFC 6712 §3.6) lives in the CA database
// since migration 5 (table cmp_transactions; CertDb::ClaimCmpTransaction),
// shared by every `serve` process on it. Before, it was the file
// DIR/cmp-transactions, one line "<transactionID-hex> <serial-hex> <epoch>"
// per issued certificate; this imports such a file once.
#ifndef CERTVAULT_CA_CMP_CMP_TXN_STORE_H_
#define CERTVAULT_CA_CMP_CMP_TXN_STORE_H_

#include <string>

#include "ca/db/cert_db.h"
#include "src/base/result.h"

namespace certvault::ca::cmp {

// ImportLegacyTxnFile: the lines of DIR/cmp-transactions into `db` for CA
// `ca` (a transactionID already there keeps its serial), then the file is
// renamed DIR/cmp-transactions.imported. OK without a file; kDataLoss for a
// malformed line (nothing renamed).
Status ImportLegacyTxnFile(const std::string& dir, CertDb& db, const std::string& ca);

}  // namespace certvault::ca::cmp

#endif  // CERTVAULT_CA_CMP_CMP_TXN_STORE_H_
