// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OcspResponder: RFC 6960 responses for one issuing CA, signed by its
// delegated OCSP signing certificate (id-kp-OCSPSigning) whose key is in the
// token. Requests are decoded with OpenSSL (d2i_OCSP_REQUEST, OCSP_id_*),
// SingleResponses are encoded by OpenSSL (OCSP_basic_add1_status); the signed
// ResponseData around them is written with the DER writer because OpenSSL can
// only sign it with an in-memory key. Every response is re-parsed by OpenSSL
// in the unit tests and by `openssl ocsp` in the interop test.
//
// Caching: the whole response to a nonce-less request is cached per CertID
// until it expires or any status of the CA changes (Invalidate, called by
// the poller when the revocations table grows; statuses read before an
// invalidation are never cached after it); a request with a nonce
// reuses the cached SingleResponse and needs one signature. The cache holds
// at most 100,000 CertIDs (it is emptied when full).
//
// Thread-safety: Respond may be called concurrently; the database is
// reached under an internal mutex.
#ifndef CERTVAULT_CA_OCSP_OCSP_RESPONDER_H_
#define CERTVAULT_CA_OCSP_OCSP_RESPONDER_H_

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ca/db/cert_db.h"
#include "ca/p11/ca_key.h"

namespace certvault::ca {

struct DecodedOcspRequest;  // ocsp_request.h

struct OcspStats {
  uint64_t requests = 0;
  uint64_t cache_hits = 0;
  uint64_t signatures = 0;
};

class OcspResponder {
 public:
  // Create: all pointers are borrowed and must outlive the responder.
  static Result<std::unique_ptr<OcspResponder>> Create(CertDb& db, std::string ca_name, X509* issuer, X509* signer_cert,
                                                       CaKey& signer_key, uint32_t validity_minutes);
  // Respond: the DER OCSPResponse; a malformed request gets malformedRequest,
  // an internal failure internalError (RFC 6960 §2.3). Never throws.
  Bytes Respond(std::span<const uint8_t> request);
  // Poll: if the CA's revocations changed since the last call, drops the
  // cache (also for every retired responder).
  Status Poll();
  void Invalidate();
  // AddRetired: the responder of a retired key generation of this CA (its
  // own issuer key, signer and cache; docs/design/ca.md "Key rollover"). A
  // request whose first CertID names that generation's issuer (name and key
  // hash) is answered by it; its other CertIDs are answered as that issuer
  // knows them. Halt, suspension and the error-state check of this
  // responder cover it. Thread-safe, also while Respond runs (a rollover
  // while `certvault-ca serve` runs adds the new generation's responder
  // here): a request answered meanwhile uses the set it started with.
  // `retired` lives as long as this responder.
  void AddRetired(std::unique_ptr<OcspResponder> retired);
  // UseSigner: from now on responses are signed by `key` with `cert` (a new
  // delegated OCSP signer after a rotation, or the issuing CA itself once
  // the OCSP signer is revoked: RFC 6960 §4.2.2.2). Both are borrowed and
  // must outlive the responder. Drops the cache. Thread-safe: a response
  // being signed meanwhile finishes with the previous signer.
  Status UseSigner(X509* cert, CaKey& key);
  // signer_cert: the certificate of the current signer.
  X509* signer_cert() const { return CurrentSigner()->cert; }
  // SetSuspended: while suspended (the CA's clock failed its checks, see
  // CaInstance::CheckClock), every request gets tryLater (RFC 6960 §2.3)
  // and nothing is signed; suspending drops the cache.
  void SetSuspended(bool suspended);
  // SetErrorStateCheck: `in_error_state` (certvault-ca serve passes
  // selftest::InErrorState) is asked at the start of every Respond; once it
  // returns true the responder halts (Halt) before answering. Null: no check.
  // Cheap enough for every request (one call, one atomic load).
  void SetErrorStateCheck(bool (*in_error_state)());
  // Halt: for good, since the process's self-test error state is only left by
  // a restart. Every request then gets internalError (RFC 6960 §2.3: "the
  // OCSP responder reached an inconsistent internal state. The query should
  // be retried, potentially with another responder"), nothing is signed and
  // the cache is dropped. SetSuspended(false) does not undo it.
  void Halt();
  bool halted() const { return halted_.load(std::memory_order_acquire); }
  // Withdraw: the key generation `ca_name` (this responder's, or one that
  // AddRetired added) is retired for good: its certificate has expired and
  // its keys are destroyed, so it can no longer speak for what it issued.
  // Every request routed to it then gets unauthorized (RFC 6960 §2.3, "the
  // server is not capable of responding authoritatively", RFC 5019 §2.2.3)
  // instead of a failed signature; its cache is dropped. Thread-safe.
  void Withdraw(const std::string& ca_name);
  bool withdrawn() const { return withdrawn_.load(std::memory_order_acquire); }
  // suspended: SetSuspended's state (serve's EST service signs nothing then either).
  bool suspended() const { return suspended_.load(std::memory_order_acquire); }
  OcspStats stats() const;

 private:
  OcspResponder() = default;
  struct Cached {
    Bytes response;      // full OCSPResponse (nonce-less requests)
    Bytes single;        // the SingleResponse DER
    time_t expires = 0;
  };
  // SingleResponse: the DER SingleResponse; `out_known` false for "unknown"
  // (never cached: the certificate may be issued a moment later).
  Result<Bytes> SingleResponse(OCSP_CERTID* id, time_t now, bool& out_known);
  struct Signer {
    X509* cert = nullptr;
    CaKey* key = nullptr;
    Bytes key_hash;  // ResponderID byKey
    Bytes cert_der;
    Bytes algid;
  };
  std::shared_ptr<const Signer> CurrentSigner() const;
  struct IssuerHashes {
    int nid = 0;
    Bytes name_hash;
    Bytes key_hash;
  };
  Status HashIssuer();
  bool IssuerMatches(OCSP_CERTID* id) const;
  Result<Bytes> Sign(std::span<const Bytes* const> singles, X509_EXTENSION* nonce, time_t now);
  Result<Bytes> RespondOrError(std::span<const uint8_t> request);
  Result<Bytes> RespondDecoded(const DecodedOcspRequest& req);
  // MustHalt: halted, or the error-state check says so now (then halts).
  bool MustHalt();
  Result<Bytes> CachedSingle(OCSP_CERTID* id, const std::string& key, time_t now, bool want_full, Bytes& out_full,
                             bool& out_known);

  CertDb* db_ = nullptr;
  std::mutex db_mu_;
  std::string ca_name_;
  X509* issuer_ = nullptr;
  mutable std::mutex signer_mu_;
  std::shared_ptr<const Signer> signer_;  // guarded by signer_mu_
  uint32_t validity_minutes_ = 60;
  std::vector<IssuerHashes> issuer_hashes_;  // one per accepted CertID hash
  // Others: the responders AddRetired added, as one immutable snapshot that
  // AddRetired replaces (copy on write) and each request reads once.
  using Others = std::vector<std::shared_ptr<OcspResponder>>;
  std::shared_ptr<const Others> Retired() const;
  mutable std::mutex retired_mu_;
  std::shared_ptr<const Others> retired_ = std::make_shared<const Others>();  // guarded by retired_mu_
  int64_t last_revocation_id_ = 0;  // guarded by db_mu_
  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, Cached> cache_;  // guarded by cache_mu_
  // generation_: bumped by Invalidate. A response whose statuses were read
  // under an older generation is not cached: a revocation may have been
  // polled in between, and its "good" would outlive the invalidation.
  uint64_t generation_ = 0;  // guarded by cache_mu_
  std::atomic<bool> suspended_{false};
  std::atomic<bool> halted_{false};
  std::atomic<bool> withdrawn_{false};
  std::atomic<bool (*)()> error_state_check_{nullptr};
  mutable std::mutex stats_mu_;
  OcspStats stats_;
};

// ErrorResponse: an OCSPResponse with only responseStatus (1 malformedRequest,
// 2 internalError, 3 tryLater, 6 unauthorized).
Bytes OcspErrorResponse(uint8_t status);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_OCSP_OCSP_RESPONDER_H_
