// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// PostgreSQL driver for SqlConnection (libpq). Statements are prepared once
// per connection (named s0, s1, ...); parameters go as text, BYTEA as binary;
// results come back in binary format. ?N placeholders become $N. Durability is
// the server's (synchronous_commit on by default): COMMIT returns after the
// WAL is flushed.
#include <arpa/inet.h>
#include <libpq-fe.h>

#include <cstring>
#include <map>
#include <vector>

#include "ca/db/sql.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr Oid kInt2Oid = 21, kInt4Oid = 23, kInt8Oid = 20, kBoolOid = 16;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

Status ResultStatus(PGconn* conn, PGresult* res, std::string_view what) {
  ExecStatusType st = PQresultStatus(res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return OkStatus();
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = std::string("postgresql ") + std::string(what) + ": " + PQerrorMessage(conn);
  if (state != nullptr && std::strcmp(state, "23505") == 0) return AlreadyExistsError(msg);
  if (PQstatus(conn) != CONNECTION_OK) return UnavailableError(msg);
  return InternalError(msg);
}

// ToDollar: "?1" -> "$1" (our SQL never has '?' inside literals).
std::string ToDollar(const std::string& sql, int& out_params) {
  std::string out = sql;
  out_params = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != '?') continue;
    out[i] = '$';
    int n = 0;
    for (size_t j = i + 1; j < out.size() && out[j] >= '0' && out[j] <= '9'; ++j) n = n * 10 + (out[j] - '0');
    out_params = std::max(out_params, n);
  }
  return out;
}

class PgStatement final : public SqlStatement {
 public:
  PgStatement(PGconn* conn, std::string name, int params)
      : conn_(conn), name_(std::move(name)), values_(params), formats_(params, 0), nulls_(params, true) {}
  void BindText(int i, std::string_view v) override { Set(i, std::string(v), 0); }
  void BindInt(int i, int64_t v) override { Set(i, std::to_string(v), 0); }
  void BindBlob(int i, std::span<const uint8_t> v) override {
    Set(i, std::string(reinterpret_cast<const char*>(v.data()), v.size()), 1);
  }
  void BindNull(int i) override {
    if (i >= 1 && i <= static_cast<int>(nulls_.size())) nulls_[i - 1] = true;
  }
  Result<bool> Step() override {
    if (res_ == nullptr) {
      CV_RETURN_IF_ERROR(Execute());
      row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(res_.get());
  }
  std::string Text(int c) const override {
    return std::string(PQgetvalue(res_.get(), row_, c), PQgetlength(res_.get(), row_, c));
  }
  std::string_view TextView(int c) const override {
    return std::string_view(PQgetvalue(res_.get(), row_, c), PQgetlength(res_.get(), row_, c));
  }
  int64_t Int(int c) const override;
  Bytes Blob(int c) const override {
    const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(res_.get(), row_, c));
    return Bytes(p, p + PQgetlength(res_.get(), row_, c));
  }
  bool IsNull(int c) const override { return PQgetisnull(res_.get(), row_, c) == 1; }
  void Reset() override {
    res_.reset();
    std::fill(nulls_.begin(), nulls_.end(), true);
  }

 private:
  void Set(int i, std::string v, int format) {
    if (i < 1 || i > static_cast<int>(values_.size())) return;
    values_[i - 1] = std::move(v);
    formats_[i - 1] = format;
    nulls_[i - 1] = false;
  }
  Status Execute() {
    size_t n = values_.size();
    std::vector<const char*> ptrs(n);
    std::vector<int> lengths(n);
    for (size_t i = 0; i < n; ++i) {
      ptrs[i] = nulls_[i] ? nullptr : values_[i].c_str();
      lengths[i] = static_cast<int>(values_[i].size());
    }
    res_.reset(PQexecPrepared(conn_, name_.c_str(), static_cast<int>(n), ptrs.data(), lengths.data(), formats_.data(),
                              1));
    Status st = ResultStatus(conn_, res_.get(), "statement");
    if (!st.ok()) res_.reset();
    return st;
  }

  PGconn* conn_;
  std::string name_;
  std::vector<std::string> values_;
  std::vector<int> formats_;
  std::vector<bool> nulls_;
  ResultPtr res_;
  int row_ = -1;
};

int64_t PgStatement::Int(int c) const {
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(res_.get(), row_, c));
  int len = PQgetlength(res_.get(), row_, c);
  Oid type = PQftype(res_.get(), c);
  if ((type != kInt8Oid && type != kInt4Oid && type != kInt2Oid && type != kBoolOid) || len > 8) return 0;
  uint64_t v = (len > 0 && (p[0] & 0x80)) ? ~uint64_t{0} : 0;  // sign-extend
  for (int i = 0; i < len; ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override {
    cache_.clear();
    PQfinish(conn_);
  }
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Result<SqlStatement*> Prepare(const std::string& sql) override {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      it->second->Reset();
      return it->second.get();
    }
    int params = 0;
    std::string text = ToDollar(sql, params);
    std::string name = "s" + std::to_string(cache_.size());
    ResultPtr res(PQprepare(conn_, name.c_str(), text.c_str(), 0, nullptr));
    CV_RETURN_IF_ERROR(ResultStatus(conn_, res.get(), "prepare"));
    auto owned = std::make_unique<PgStatement>(conn_, name, params);
    SqlStatement* raw = owned.get();
    cache_.emplace(sql, std::move(owned));
    return raw;
  }
  Status Exec(const std::string& sql) override {
    ResultPtr res(PQexec(conn_, sql.c_str()));
    return ResultStatus(conn_, res.get(), "exec");
  }
  Status Begin() override { return Exec("BEGIN"); }
  Status Commit() override { return Exec("COMMIT"); }
  void Rollback() override { (void)Exec("ROLLBACK"); }

 private:
  PGconn* conn_;
  std::map<std::string, std::unique_ptr<PgStatement>> cache_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    return UnavailableError("cannot connect to PostgreSQL: " + msg);
  }
  auto pg = std::make_unique<PgConnection>(conn);
  CV_RETURN_IF_ERROR(pg->Exec("SET client_min_messages = warning"));
  return std::unique_ptr<SqlConnection>(std::move(pg));
}

}  // namespace certvault::ca
