// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OcspResponder: request handling and the response cache.
#include <openssl/ocsp.h>

#include "ca/ocsp/ocsp_ptr.h"
#include "ca/ocsp/ocsp_request.h"
#include "ca/ocsp/ocsp_responder.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

constexpr size_t kMaxCacheEntries = 100000;

}  // namespace

Result<Bytes> OcspResponder::CachedSingle(OCSP_CERTID* id, const std::string& key, time_t now, bool want_full,
                                          Bytes& out_full, bool& out_known) {
  out_known = true;
  {
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.expires > now) {
      if (want_full) out_full = it->second.response;
      std::lock_guard<std::mutex> s(stats_mu_);
      ++stats_.cache_hits;
      return it->second.single;
    }
  }
  return SingleResponse(id, now, out_known);
}

Result<Bytes> OcspResponder::RespondOrError(std::span<const uint8_t> request) {
  CV_ASSIGN_OR_RETURN(DecodedOcspRequest req, DecodeOcspRequest(request));
  // After a key rollover: a CertID of a retired generation goes to its
  // responder (no cost while there is none).
  std::shared_ptr<const Others> retired = Retired();
  if (!retired->empty() && !IssuerMatches(req.ids[0])) {
    for (const std::shared_ptr<OcspResponder>& r : *retired) {
      if (r->IssuerMatches(req.ids[0])) return r->RespondDecoded(req);
    }
  }
  return RespondDecoded(req);
}

Result<Bytes> OcspResponder::RespondDecoded(const DecodedOcspRequest& req) {
  if (withdrawn()) return OcspErrorResponse(6);  // unauthorized: its keys are gone (Withdraw)
  size_t n = req.ids.size();
  bool cacheable = n == 1 && req.nonce == nullptr;
  time_t now = std::time(nullptr);
  uint64_t generation = 0;
  {
    std::shared_lock<std::shared_mutex> lock(cache_mu_);
    generation = generation_;  // read before any status: see generation_
  }
  std::vector<Bytes> singles(n);
  std::vector<bool> known(n);
  for (size_t i = 0; i < n; ++i) {
    Bytes full;
    bool k = true;
    CV_ASSIGN_OR_RETURN(singles[i], CachedSingle(req.ids[i], req.id_keys[i], now, cacheable, full, k));
    known[i] = k;
    if (cacheable && !full.empty()) return full;
  }
  std::vector<const Bytes*> ptrs;
  for (const Bytes& s : singles) ptrs.push_back(&s);
  CV_ASSIGN_OR_RETURN(Bytes response, Sign(ptrs, req.nonce, now));
  std::unique_lock<std::shared_mutex> lock(cache_mu_);
  if (generation != generation_) return response;  // invalidated while we read: may be stale
  // Bounded memory: a full cache starts over (about 1 KiB per entry).
  if (cache_.size() + n > kMaxCacheEntries) cache_.clear();
  time_t expires = now + static_cast<time_t>(validity_minutes_) * 30;  // half the validity
  for (size_t i = 0; i < n; ++i) {
    if (!known[i]) continue;
    Cached& c = cache_[req.id_keys[i]];
    if (c.expires <= now) c = Cached{{}, singles[i], expires};
    if (cacheable) c.response = response;
  }
  return response;
}

Bytes OcspResponder::Respond(std::span<const uint8_t> request) {
  {
    std::lock_guard<std::mutex> s(stats_mu_);
    ++stats_.requests;
  }
  if (MustHalt()) return OcspErrorResponse(2);  // internalError, until a restart
  if (suspended_.load(std::memory_order_acquire)) return OcspErrorResponse(3);  // tryLater
  try {
    Result<Bytes> r = RespondOrError(request);
    if (r.ok()) return std::move(r).value();
    // RFC 6960 §2.3: malformedRequest (1) or internalError (2).
    return OcspErrorResponse(r.status().code() == StatusCode::kInvalidArgument ? 1 : 2);
  } catch (...) {
    return OcspErrorResponse(2);
  }
}

void OcspResponder::AddRetired(std::unique_ptr<OcspResponder> retired) {
  std::lock_guard<std::mutex> lock(retired_mu_);
  auto next = std::make_shared<Others>(*retired_);
  next->push_back(std::move(retired));
  retired_ = std::move(next);
}

std::shared_ptr<const OcspResponder::Others> OcspResponder::Retired() const {
  std::lock_guard<std::mutex> lock(retired_mu_);
  return retired_;
}

Status OcspResponder::Poll() {
  for (const std::shared_ptr<OcspResponder>& r : *Retired()) CV_RETURN_IF_ERROR(r->Poll());
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    CV_ASSIGN_OR_RETURN(id, db_->MaxRevocationId(ca_name_));
    if (id == last_revocation_id_) return OkStatus();
    last_revocation_id_ = id;
  }
  Invalidate();
  return OkStatus();
}

void OcspResponder::SetSuspended(bool suspended) {
  suspended_.store(suspended, std::memory_order_release);
  if (suspended) Invalidate();
}

void OcspResponder::SetErrorStateCheck(bool (*in_error_state)()) {
  error_state_check_.store(in_error_state, std::memory_order_release);
}

void OcspResponder::Halt() {
  halted_.store(true, std::memory_order_release);
  Invalidate();
}

void OcspResponder::Withdraw(const std::string& ca_name) {
  for (const std::shared_ptr<OcspResponder>& r : *Retired()) r->Withdraw(ca_name);
  if (ca_name != ca_name_ || withdrawn_.exchange(true, std::memory_order_acq_rel)) return;
  Invalidate();
}

bool OcspResponder::MustHalt() {
  if (halted()) return true;
  bool (*check)() = error_state_check_.load(std::memory_order_acquire);
  if (check == nullptr || !check()) return false;
  Halt();
  return true;
}

void OcspResponder::Invalidate() {
  for (const std::shared_ptr<OcspResponder>& r : *Retired()) r->Invalidate();
  std::unique_lock<std::shared_mutex> lock(cache_mu_);
  cache_.clear();
  ++generation_;
}

OcspStats OcspResponder::stats() const {
  OcspStats total;
  {
    std::lock_guard<std::mutex> s(stats_mu_);
    total = stats_;
  }
  for (const std::shared_ptr<OcspResponder>& r : *Retired()) {
    OcspStats more = r->stats();
    total.cache_hits += more.cache_hits;
    total.signatures += more.signatures;  // requests are counted where they arrive
  }
  return total;
}

}  // namespace certvault::ca
