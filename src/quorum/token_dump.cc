// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/quorum/token_dump.h"

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/quorum/quorum_internal.h"

namespace certvault::quorum {
namespace {

using W = ByteWriter<SecureVector>;
using internal::Str;

void Put(W& w, std::string_view s) { w.WriteU32LengthPrefixed(Str(s)); }
void Put(W& w, std::span<const uint8_t> b) { w.WriteU32LengthPrefixed(b); }

// Reader: ByteReader with one sticky failure flag, so that decoding reads
// linearly and checks once.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : r_(in) {}
  uint64_t U64() { uint64_t v = 0; ok_ = ok_ && r_.ReadU64(&v); return v; }
  uint32_t U32() { uint32_t v = 0; ok_ = ok_ && r_.ReadU32(&v); return v; }
  uint8_t U8() { uint8_t v = 0; ok_ = ok_ && r_.ReadU8(&v); return v; }
  Bytes Blob() {
    std::span<const uint8_t> b;
    ok_ = ok_ && r_.ReadU32LengthPrefixed(&b);
    return ok_ ? Bytes(b.begin(), b.end()) : Bytes();
  }
  std::string Text() { Bytes b = Blob(); return std::string(b.begin(), b.end()); }
  // Count: a count of items each at least `min_size` bytes long (bounds the reservation).
  uint32_t Count(size_t min_size) {
    uint32_t n = U32();
    if (static_cast<uint64_t>(n) * min_size > r_.remaining()) ok_ = false;
    return ok_ ? n : 0;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && r_.empty(); }

 private:
  ByteReader r_;
  bool ok_ = true;
};

constexpr char kMagic[] = "CVBP";

void PutToken(W& w, const storage::TokenRow& t) {
  w.WriteU64(t.token_id);
  Put(w, t.label);
  Put(w, t.serial);
  w.WriteU64(t.flags);
  w.WriteU32(t.capacity);
  Put(w, t.policy);
  w.WriteU64(static_cast<uint64_t>(t.created_unix));
  Put(w, t.integrity);
}

void PutEvent(W& w, const storage::EventRow& e) {
  w.WriteU64(e.seq);
  w.WriteU64(static_cast<uint64_t>(e.time_ms));
  Put(w, e.role);
  Put(w, e.mode);
  w.WriteU64(static_cast<uint64_t>(e.peer_uid));
  w.WriteU64(static_cast<uint64_t>(e.peer_pid));
  Put(w, e.peer_exe);
  Put(w, e.action);
  w.WriteU64(e.target_id);
  Put(w, e.target_label);
  Put(w, e.result);
  Put(w, e.detail);
  Put(w, e.prev_hash);
  Put(w, e.hash);
}

storage::EventRow GetEvent(Reader& r, storage::TokenId token) {
  storage::EventRow e;
  e.token_id = token;
  e.seq = r.U64();
  e.time_ms = static_cast<int64_t>(r.U64());
  e.role = r.Text();
  e.mode = r.Text();
  e.peer_uid = static_cast<int64_t>(r.U64());
  e.peer_pid = static_cast<int64_t>(r.U64());
  e.peer_exe = r.Text();
  e.action = r.Text();
  e.target_id = r.U64();
  e.target_label = r.Text();
  e.result = r.Text();
  e.detail = r.Text();
  e.prev_hash = r.Blob();
  e.hash = r.Blob();
  return e;
}

}  // namespace

Result<TokenDump> ReadTokenDump(storage::Store& store, storage::TokenId token, const SecretBytes& token_key) {
  TokenDump d;
  d.token_key = token_key.Clone();
  // One transaction, so that the rows are one consistent state of the token.
  CV_RETURN_IF_ERROR(store.RunExclusive([&]() -> Status {
    CV_ASSIGN_OR_RETURN(d.token, store.GetToken(token));
    for (storage::Role role : {storage::Role::kSo, storage::Role::kUser}) {
      Result<storage::AuthRow> a = store.GetAuth(token, role);
      if (a.ok()) d.auth.push_back(std::move(*a));
    }
    CV_ASSIGN_OR_RETURN(d.audit_keys, store.ListAuditKeys(token));
    CV_RETURN_IF_ERROR(store.ForEachEvent(token, [&](const storage::EventRow& e) {
      d.events.push_back(e);
      return OkStatus();
    }));
    CV_ASSIGN_OR_RETURN(d.checkpoints, store.ListCheckpoints(token));
    // The quorum record and the policy it pinned: a restored token keeps
    // both (the pin's MAC binds TK and the token id, which restore keeps).
    for (const std::string& name : {internal::ConfigName(token), internal::PolicyPinName(token)}) {
      Result<Bytes> row = store.GetMetaRow(name);
      if (row.ok()) d.meta.emplace_back(name, std::move(*row));
    }
    return store.ForEachObject(token, [&](const storage::ObjectRow& o) {
      d.objects.push_back(o);
      return OkStatus();
    });
  }));
  return d;
}

namespace {

void PutRows(W& w, const TokenDump& d) {
  w.WriteU32(static_cast<uint32_t>(d.auth.size()));
  for (const storage::AuthRow& a : d.auth) {
    w.WriteU8(static_cast<uint8_t>(a.role));
    Put(w, a.kdf);
    Put(w, a.wrapped_key);
    w.WriteU32(a.tries_left);
    w.WriteU32(a.max_tries);
    w.WriteU32(a.flags);
    w.WriteU64(a.attempts);
    Put(w, a.anchor);
  }
  w.WriteU32(static_cast<uint32_t>(d.audit_keys.size()));
  for (const storage::AuditKeyRow& k : d.audit_keys) {
    w.WriteU32(k.key_no);
    Put(w, k.public_key);
    Put(w, k.sealed_private);
    w.WriteU64(static_cast<uint64_t>(k.created_ms));
  }
  w.WriteU32(static_cast<uint32_t>(d.events.size()));
  for (const storage::EventRow& e : d.events) PutEvent(w, e);
  w.WriteU32(static_cast<uint32_t>(d.checkpoints.size()));
  for (const storage::CheckpointRow& c : d.checkpoints) {
    w.WriteU64(c.seq);
    w.WriteU64(static_cast<uint64_t>(c.time_ms));
    w.WriteU32(c.key_no);
    Put(w, c.head);
    Put(w, c.signature);
  }
}

}  // namespace

SecureVector EncodeTokenDump(const TokenDump& d) {
  SecureVector out;
  W w(&out);
  w.WriteBytes(Str(kMagic));
  PutToken(w, d.token);
  Put(w, d.token_key.Bytes(SecretAccess::Get()));
  PutRows(w, d);
  w.WriteU32(static_cast<uint32_t>(d.meta.size()));
  for (const auto& [key, value] : d.meta) {
    Put(w, key);
    Put(w, value);
  }
  w.WriteU32(static_cast<uint32_t>(d.objects.size()));
  for (const storage::ObjectRow& o : d.objects) {
    w.WriteU64(o.object_id);
    w.WriteU64(o.object_class);
    Put(w, o.label);
    Put(w, o.ckid);
    w.WriteU8(o.is_private ? 1 : 0);
    w.WriteU64(o.version);
    Put(w, o.record);
  }
  return out;
}

namespace {

void GetToken(Reader& r, storage::TokenRow* t) {
  t->token_id = r.U64();
  t->label = r.Text();
  t->serial = r.Text();
  t->flags = r.U64();
  t->capacity = r.U32();
  t->policy = r.Blob();
  t->created_unix = static_cast<int64_t>(r.U64());
  t->integrity = r.Blob();
}

Status GetAuth(Reader& r, TokenDump* d) {
  for (uint32_t i = 0, n = r.Count(29); i < n; ++i) {
    storage::AuthRow a;
    a.token_id = d->token.token_id;
    const uint8_t role = r.U8();
    if (role > 1) return DataLossError("bad role in backup payload");
    a.role = static_cast<storage::Role>(role);
    a.kdf = r.Blob();
    a.wrapped_key = r.Blob();
    a.tries_left = r.U32();
    a.max_tries = r.U32();
    a.flags = r.U32();
    a.attempts = r.U64();
    a.anchor = r.Blob();
    d->auth.push_back(std::move(a));
  }
  return OkStatus();
}

void GetAuditKeysAndLog(Reader& r, TokenDump* d) {
  const storage::TokenId token = d->token.token_id;
  for (uint32_t i = 0, n = r.Count(20); i < n; ++i) {
    storage::AuditKeyRow k;
    k.token_id = token;
    k.key_no = r.U32();
    k.public_key = r.Blob();
    k.sealed_private = r.Blob();
    k.created_ms = static_cast<int64_t>(r.U64());
    d->audit_keys.push_back(std::move(k));
  }
  for (uint32_t i = 0, n = r.Count(72); i < n; ++i) d->events.push_back(GetEvent(r, token));
  for (uint32_t i = 0, n = r.Count(28); i < n; ++i) {
    storage::CheckpointRow c;
    c.token_id = token;
    c.seq = r.U64();
    c.time_ms = static_cast<int64_t>(r.U64());
    c.key_no = r.U32();
    c.head = r.Blob();
    c.signature = r.Blob();
    d->checkpoints.push_back(std::move(c));
  }
}

Status GetMetaAndObjects(Reader& r, TokenDump* d) {
  for (uint32_t i = 0, n = r.Count(8); i < n; ++i) {
    std::string key = r.Text();
    Bytes value = r.Blob();
    const storage::TokenId t = d->token.token_id;
    if (key != internal::ConfigName(t) && key != internal::PolicyPinName(t)) {
      return DataLossError("unexpected meta row in backup payload");
    }
    for (const auto& seen : d->meta) {
      if (seen.first == key) return DataLossError("a meta row appears twice in the backup payload");
    }
    d->meta.emplace_back(std::move(key), std::move(value));
  }
  for (uint32_t i = 0, n = r.Count(37); i < n; ++i) {
    storage::ObjectRow o;
    o.token_id = d->token.token_id;
    o.object_id = r.U64();
    o.object_class = r.U64();
    o.label = r.Blob();
    o.ckid = r.Blob();
    o.is_private = r.U8() != 0;
    o.version = r.U64();
    o.record = r.Blob();
    d->objects.push_back(std::move(o));
  }
  return OkStatus();
}

}  // namespace

Result<TokenDump> DecodeTokenDump(std::span<const uint8_t> payload) {
  if (payload.size() < 4 || !std::equal(payload.begin(), payload.begin() + 4, kMagic)) {
    return DataLossError("not a certvault backup payload");
  }
  Reader r(payload.subspan(4));
  TokenDump d;
  GetToken(r, &d.token);
  Bytes tk = r.Blob();
  d.token_key = SecretBytes(tk, SecretAccess::Get());
  OPENSSL_cleanse(tk.data(), tk.size());
  CV_RETURN_IF_ERROR(GetAuth(r, &d));
  GetAuditKeysAndLog(r, &d);
  CV_RETURN_IF_ERROR(GetMetaAndObjects(r, &d));
  if (!r.done()) return DataLossError("malformed backup payload");
  return d;
}

Status WriteTokenDump(storage::Store& store, const TokenDump& d) {
  CV_RETURN_IF_ERROR(store.CreateToken(d.token, d.auth));
  for (const storage::AuditKeyRow& k : d.audit_keys) CV_RETURN_IF_ERROR(store.InsertAuditKey(k));
  for (const storage::EventRow& e : d.events) CV_RETURN_IF_ERROR(store.InsertEvent(e));
  for (const storage::CheckpointRow& c : d.checkpoints) CV_RETURN_IF_ERROR(store.InsertCheckpoint(c));
  for (const auto& [key, value] : d.meta) CV_RETURN_IF_ERROR(store.PutMetaRow(key, value));
  return store.RestoreObjects(d.objects);
}

}  // namespace certvault::quorum
