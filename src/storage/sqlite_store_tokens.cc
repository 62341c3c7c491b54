// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// SqliteStore: tokens and authentication rows.
#include <string>

#include "src/base/status_macros.h"
#include "src/storage/sqlite_store.h"

namespace certvault::storage::internal {
namespace {

constexpr char kTokenColumns[] = "SELECT token_id, label, serial, flags, capacity, policy, created_unix, integrity FROM tokens";

TokenRow ReadTokenRow(const Stmt& stmt) {
  TokenRow row;
  row.token_id = stmt.ColumnU64(0);
  row.label = stmt.ColumnText(1);
  row.serial = stmt.ColumnText(2);
  row.flags = stmt.ColumnU64(3);
  row.capacity = static_cast<uint32_t>(stmt.ColumnInt(4));
  row.policy = stmt.ColumnBlob(5);
  row.created_unix = stmt.ColumnInt(6);
  row.integrity = stmt.ColumnBlob(7);
  return row;
}

Status BindTokenRow(Stmt& stmt, const TokenRow& row) {
  CV_RETURN_IF_ERROR(stmt.BindU64(1, row.token_id));
  CV_RETURN_IF_ERROR(stmt.BindText(2, row.label));
  CV_RETURN_IF_ERROR(stmt.BindText(3, row.serial));
  CV_RETURN_IF_ERROR(stmt.BindU64(4, row.flags));
  CV_RETURN_IF_ERROR(stmt.BindInt(5, row.capacity));
  CV_RETURN_IF_ERROR(stmt.BindBlob(6, row.policy));
  CV_RETURN_IF_ERROR(stmt.BindInt(7, row.created_unix));
  return stmt.BindBlob(8, row.integrity);
}

// MetaKey: the `meta` key of one role's counter state (store.h AuthRow).
std::string MetaKey(TokenId id, Role role, std::string_view what) {
  return "auth/" + std::to_string(id) + "/" + std::to_string(static_cast<int>(role)) + "/" + std::string(what);
}

Status PutMeta(Connection& conn, const std::string& key, const AuthRow* attempts_of, std::span<const uint8_t> blob) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"));
  CV_RETURN_IF_ERROR(stmt.BindText(1, key));
  CV_RETURN_IF_ERROR(attempts_of != nullptr ? stmt.BindU64(2, attempts_of->attempts) : stmt.BindBlob(2, blob));
  return stmt.StepDone();
}

// DeleteCounterState: the meta rows of every role of token `id`.
Status DeleteCounterState(Connection& conn, TokenId id) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("DELETE FROM meta WHERE key >= ?1 AND key < ?2"));
  std::string prefix = "auth/" + std::to_string(id) + "/";
  CV_RETURN_IF_ERROR(stmt.BindText(1, prefix));
  CV_RETURN_IF_ERROR(stmt.BindText(2, prefix.substr(0, prefix.size() - 1) + "0"));  // '0' follows '/'
  return stmt.StepDone();
}

Status InsertAuth(Connection& conn, const AuthRow& row) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("INSERT OR REPLACE INTO auth(token_id, role, kdf, wrapped_key, "
                                              "tries_left, max_tries, flags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  CV_RETURN_IF_ERROR(stmt.BindU64(1, row.token_id));
  CV_RETURN_IF_ERROR(stmt.BindInt(2, static_cast<int64_t>(row.role)));
  CV_RETURN_IF_ERROR(stmt.BindBlob(3, row.kdf));
  CV_RETURN_IF_ERROR(stmt.BindBlob(4, row.wrapped_key));
  CV_RETURN_IF_ERROR(stmt.BindInt(5, row.tries_left));
  CV_RETURN_IF_ERROR(stmt.BindInt(6, row.max_tries));
  CV_RETURN_IF_ERROR(stmt.BindInt(7, row.flags));
  Status s = stmt.StepDone();
  if (s.code() == StatusCode::kNotFound) return NotFoundError("token " + std::to_string(row.token_id) + " not found");
  CV_RETURN_IF_ERROR(s);
  CV_RETURN_IF_ERROR(PutMeta(conn, MetaKey(row.token_id, row.role, "attempts"), &row, {}));
  return PutMeta(conn, MetaKey(row.token_id, row.role, "anchor"), nullptr, row.anchor);
}

// RunOnAuth: runs an UPDATE/DELETE whose parameters are (token_id, role);
// kNotFound if it touched no row.
Status RunOnAuth(Connection& conn, const char* sql, TokenId id, Role role) {
  CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(sql));
  CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
  CV_RETURN_IF_ERROR(stmt.BindInt(2, static_cast<int64_t>(role)));
  CV_RETURN_IF_ERROR(stmt.StepDone());
  if (conn.Changes() == 0) return NotFoundError("no auth row for token " + std::to_string(id));
  return OkStatus();
}

Status TokenNotFound(TokenId id) { return NotFoundError("token " + std::to_string(id) + " not found"); }

}  // namespace

Result<std::vector<TokenRow>> SqliteStore::ListTokens() {
  std::vector<TokenRow> out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(std::string(kTokenColumns) + " ORDER BY token_id"));
    for (;;) {
      CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return OkStatus();
      out.push_back(ReadTokenRow(stmt));
    }
  });
  if (!status.ok()) return status;
  return out;
}

Result<TokenRow> SqliteStore::GetToken(TokenId id) {
  TokenRow out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare(std::string(kTokenColumns) + " WHERE token_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return TokenNotFound(id);
    out = ReadTokenRow(stmt);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Result<TokenId> SqliteStore::NextTokenId() {
  TokenId out = 0;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT coalesce(max(token_id), 0) + 1 FROM tokens"));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InternalError("max(token_id) returned no row");
    out = stmt.ColumnU64(0);
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::CreateToken(const TokenRow& row, const std::vector<AuthRow>& auth) {
  for (const AuthRow& a : auth) {
    if (a.token_id != row.token_id) return InvalidArgumentError("auth row for a different token");
  }
  return Write([&](Connection& conn) -> Status {
    {
      // ON DELETE CASCADE removes the old token's auth rows and objects.
      CV_ASSIGN_OR_RETURN(Stmt del, conn.Prepare("DELETE FROM tokens WHERE token_id = ?1"));
      CV_RETURN_IF_ERROR(del.BindU64(1, row.token_id));
      CV_RETURN_IF_ERROR(del.StepDone());
    }
    CV_RETURN_IF_ERROR(DeleteCounterState(conn, row.token_id));
    CV_ASSIGN_OR_RETURN(Stmt ins, conn.Prepare("INSERT INTO tokens(token_id, label, serial, flags, capacity, "
                                               "policy, created_unix, integrity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    CV_RETURN_IF_ERROR(BindTokenRow(ins, row));
    CV_RETURN_IF_ERROR(ins.StepDone());
    for (const AuthRow& a : auth) CV_RETURN_IF_ERROR(InsertAuth(conn, a));
    return OkStatus();
  });
}

Status SqliteStore::UpdateToken(const TokenRow& row) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("UPDATE tokens SET label = ?2, serial = ?3, flags = ?4, "
                                                "capacity = ?5, policy = ?6, created_unix = ?7, "
                                                "integrity = ?8 WHERE token_id = ?1"));
    CV_RETURN_IF_ERROR(BindTokenRow(stmt, row));
    CV_RETURN_IF_ERROR(stmt.StepDone());
    return conn.Changes() == 0 ? TokenNotFound(row.token_id) : OkStatus();
  });
}

Status SqliteStore::DeleteToken(TokenId id) {
  return Write([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("DELETE FROM tokens WHERE token_id = ?1"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_RETURN_IF_ERROR(stmt.StepDone());
    if (conn.Changes() == 0) return TokenNotFound(id);
    return DeleteCounterState(conn, id);
  });
}

Result<AuthRow> SqliteStore::GetAuth(TokenId id, Role role) {
  AuthRow out;
  Status status = Read([&](Connection& conn) -> Status {
    CV_ASSIGN_OR_RETURN(Stmt stmt, conn.Prepare("SELECT kdf, wrapped_key, tries_left, max_tries, flags, "
                                                "(SELECT value FROM meta WHERE key = ?3), "
                                                "(SELECT value FROM meta WHERE key = ?4) FROM auth "
                                                "WHERE token_id = ?1 AND role = ?2"));
    CV_RETURN_IF_ERROR(stmt.BindU64(1, id));
    CV_RETURN_IF_ERROR(stmt.BindInt(2, static_cast<int64_t>(role)));
    CV_RETURN_IF_ERROR(stmt.BindText(3, MetaKey(id, role, "attempts")));
    CV_RETURN_IF_ERROR(stmt.BindText(4, MetaKey(id, role, "anchor")));
    CV_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFoundError("no auth row for token " + std::to_string(id));
    out = AuthRow{id, role, stmt.ColumnBlob(0), stmt.ColumnBlob(1), static_cast<uint32_t>(stmt.ColumnInt(2)),
                  static_cast<uint32_t>(stmt.ColumnInt(3)), static_cast<uint32_t>(stmt.ColumnInt(4)),
                  stmt.ColumnU64(5), stmt.ColumnBlob(6)};
    return OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

Status SqliteStore::PutAuth(const AuthRow& row) {
  return Write([&](Connection& conn) { return InsertAuth(conn, row); });
}

Result<uint32_t> SqliteStore::DecrementTries(TokenId id, Role role) {
  uint32_t before = 0;
  // One write transaction: the read of the old value and the decrement are
  // atomic across processes, and the commit (synchronous=FULL) makes the
  // attempt durable before the PIN is checked.
  Status status = Write([&](Connection& conn) -> Status {
    {
      CV_ASSIGN_OR_RETURN(Stmt sel, conn.Prepare("SELECT tries_left FROM auth WHERE token_id = ?1 AND role = ?2"));
      CV_RETURN_IF_ERROR(sel.BindU64(1, id));
      CV_RETURN_IF_ERROR(sel.BindInt(2, static_cast<int64_t>(role)));
      CV_ASSIGN_OR_RETURN(bool row, sel.Step());
      if (!row) return NotFoundError("no auth row for token " + std::to_string(id));
      before = static_cast<uint32_t>(sel.ColumnInt(0));
    }
    if (before == 0) return OkStatus();
    CV_RETURN_IF_ERROR(RunOnAuth(conn, "UPDATE auth SET tries_left = tries_left - 1 WHERE token_id = ?1 AND role = ?2 "
                                 "AND tries_left > 0", id, role));
    CV_ASSIGN_OR_RETURN(Stmt up, conn.Prepare("INSERT INTO meta(key, value) VALUES (?1, 1) "
                                              "ON CONFLICT(key) DO UPDATE SET value = value + 1"));
    CV_RETURN_IF_ERROR(up.BindText(1, MetaKey(id, role, "attempts")));
    return up.StepDone();
  });
  if (!status.ok()) return status;
  return before;
}

Status SqliteStore::ResetTries(TokenId id, Role role, std::span<const uint8_t> anchor) {
  return Write([&](Connection& conn) -> Status {
    CV_RETURN_IF_ERROR(
        RunOnAuth(conn, "UPDATE auth SET tries_left = max_tries WHERE token_id = ?1 AND role = ?2", id, role));
    return PutMeta(conn, MetaKey(id, role, "anchor"), nullptr, anchor);
  });
}

}  // namespace certvault::storage::internal
