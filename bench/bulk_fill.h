// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// BulkFill: benchmark set-up for the lookup scenario. Durable C_CreateObject
// costs one fsync per object (about 7 ms on the reference VM), so reaching
// 100,000 objects through PKCS#11 would take most of an hour. This writes the
// same rows C_CreateObject writes -- built by the core's own policy and object
// code -- straight into the vault database, thousands per transaction. Only
// the set-up takes this path; every lookup is measured through the module.
#ifndef CERTVAULT_BENCH_BULK_FILL_H_
#define CERTVAULT_BENCH_BULK_FILL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "src/base/status.h"

namespace certvault::bench {

// BulkFillDataObjects adds public token CKO_DATA objects labelled
// "<prefix>-<i>" for i in [first, first + count) to token `token_id` of the
// vault in `vault_dir`, each with the 32-byte value CreateDataObject uses.
Status BulkFillDataObjects(const std::string& vault_dir, uint64_t token_id, const std::string& prefix, size_t first,
                           size_t count);

// BulkFillInChild: BulkFillDataObjects in a forked child, so that the memory
// it uses never counts in (or pre-warms) the measuring process.
Status BulkFillInChild(const std::string& vault_dir, uint64_t token_id, const std::string& prefix, size_t first,
                       size_t count);

}  // namespace certvault::bench

#endif  // CERTVAULT_BENCH_BULK_FILL_H_
