// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: vault-wide values kept in the `meta` table.
#include "src/base/status_macros.h"
#include "src/storage/sqlite_store.h"

namespace certvault::storage::internal {

Result<int64_t> SqliteStore::RaiseTrustedTime(int64_t t) {
  int64_t stored = t;
  // One statement raises the value atomically across processes; the SELECT
  // in the same transaction returns what it is now.
  Status status = Write([&](Connection& conn) -> Status {
    {
      CV_ASSIGN_OR_RETURN(Stmt up, conn.Prepare("INSERT INTO meta(key, value) VALUES ('trusted_time', ?1) "
                                                "ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)"));
      CV_RETURN_IF_ERROR(up.BindInt(1, t));
      CV_RETURN_IF_ERROR(up.StepDone());
    }
    CV_ASSIGN_OR_RETURN(Stmt sel, conn.Prepare("SELECT value FROM meta WHERE key = 'trusted_time'"));
    CV_ASSIGN_OR_RETURN(bool row, sel.Step());
    if (!row) return InternalError("trusted_time vanished");
    stored = sel.ColumnInt(0);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return stored;
}

}  // namespace certvault::storage::internal
