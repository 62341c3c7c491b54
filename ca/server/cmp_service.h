// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CmpService: Lightweight CMP (RFC 9483) over HTTP (RFC 6712) in
// `certvault-ca serve`: POST /.well-known/cmp and /.well-known/cmp/p/<profile>
// with application/pkixcmp. Messages are decoded, protection-checked and
// answered by OpenSSL's CMP server (OSSL_CMP_SRV_process_request) in the
// server's own library context; this class supplies the callbacks:
// ir/cr/p10cr/kur go through the IssueQueue (the same intake, profile,
// nameConstraints and lint path as EST), rr through the database, genm
// answers caCerts, rootCaKeyUpdate and crls (cmp_general.cc).
// Authorization: the CMP protection certificate
// (extraCerts[0], RFC 9483 §3.3) is validated against this CA's chain and
// client_anchors and, if ours, the database (not revoked), then pinned as the
// only key OpenSSL accepts for the signature; [[server.authorize]] grants
// profiles, `revoke = true` revocation. A MAC-protected ir uses a one-time
// enrollment code made with `enroll-code --cmp` (senderKID = code id),
// burnt before issuing. Enrollment codes and the transactionID map are in
// the CA database, shared by every serve process on it (migration 5): a
// transactionID is claimed there before issuing and mapped to its
// certificate in the certificate's own commit, so a retry on any server
// returns the same certificate and none issues twice. Responses are signed with the TLS server key in the
// CA token (or MAC-protected with the request's secret, OpenSSL 3.0's
// behaviour). Design: docs/design/enrollment.md (CMP). Thread-safe.
#ifndef CERTVAULT_CA_SERVER_CMP_SERVICE_H_
#define CERTVAULT_CA_SERVER_CMP_SERVICE_H_

#include <openssl/cmp.h>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "ca/cmp/cmp_txn_store.h"
#include "ca/est/enroll_codes.h"
#include "ca/http/http_server.h"
#include "ca/server/issue_queue.h"
#include "ca/server/metrics.h"
#include "ca/server/server_config.h"

namespace certvault::ca {

struct CmpDeps {
  const CaConfig* ca = nullptr;
  std::function<std::shared_ptr<const ServerConfig>()> server;  // the current [server]
  std::function<std::shared_ptr<const CaConfig>()> profiles;     // the current profiles; null: ca's
  std::string ca_name;                                          // the issuing CA's name in the database
  X509* issuing = nullptr;                                      // borrowed
  X509* root = nullptr;                                         // borrowed; may be null
  CertDb* db = nullptr;                                         // its own connection: lookups and revocations
  IssueQueue* queue = nullptr;
  ServerMetrics* metrics = nullptr;
  std::function<bool()> may_sign;
  OSSL_LIB_CTX* libctx = nullptr;  // the server's (ServerTls), with certvault's provider
  EVP_PKEY* key = nullptr;         // response protection: the TLS server key, in the token (borrowed)
  X509* cert = nullptr;            // its certificate (borrowed)
  std::shared_ptr<const void> signer_owner;  // keeps `key` and `cert` alive (see SetSigner)
  FILE* access_log = nullptr;      // borrowed; may be null
};

// CmpGeneration: the issuing key generation CMP answers for, with the live
// retired ones (database CA name, certificate; all borrowed, outliving the
// service). Each request reads one (CmpService::SetGeneration).
struct CmpGeneration {
  std::string ca_name;
  X509* issuing = nullptr;
  X509* root = nullptr;  // may be null
  std::vector<std::pair<std::string, X509*>> retired;
};

class CmpService {
 public:
  // Create: kFailedPrecondition when the anchors cannot be read.
  static Result<std::unique_ptr<CmpService>> Create(CmpDeps deps);
  ~CmpService();
  // Handle: false for paths outside /.well-known/cmp.
  bool Handle(const HttpRequest& request, HttpReply& reply);
  // SetSigner: the key and certificate that sign answers from now on (SIGHUP
  // reload after `server-cert`); `owner` keeps them alive. Each transaction
  // holds a reference on the owner of the signer it started with, so the
  // caller may drop its own reference on an old owner at any time.
  // REQUIRES: deps.libctx outlives the service.
  void SetSigner(EVP_PKEY* key, X509* cert, std::shared_ptr<const void> owner);
  // SetGeneration: after a key rollover, the generation requests starting
  // from now on use (chain, caPubs, genm caCerts, the protection-certificate
  // lookup, transaction claims, revocation); its certificates join the
  // anchors, the older ones stay (their certificates still sign requests).
  // Fails, changing nothing, when a certificate cannot be added.
  Status SetGeneration(CmpGeneration gen);
  std::shared_ptr<const CmpGeneration> CurrentGeneration() const;

  struct Req;  // one request (cmp_service.cc)
  // The OpenSSL callbacks' bodies (public for the C trampolines only).
  OSSL_CMP_PKISI* CertRequest(Req& r, const OSSL_CMP_MSG* req, const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr,
                              X509** cert_out, STACK_OF(X509) * *chain_out, STACK_OF(X509) * *ca_pubs);
  OSSL_CMP_PKISI* Revoke(Req& r, const X509_NAME* issuer, const ASN1_INTEGER* serial);
  bool Genm(Req& r, const STACK_OF(OSSL_CMP_ITAV) * in, STACK_OF(OSSL_CMP_ITAV) * *out);
  bool CertConf(Req& r, const ASN1_OCTET_STRING* cert_hash);

 private:
  explicit CmpService(CmpDeps deps) : deps_(std::move(deps)), codes_(deps_.ca->dir, deps_.ca->database) {}
  static constexpr size_t kMaxOpen = 4096;
  // kClaimLeaseSeconds: how long a transactionID claimed by a request that
  // has not committed its certificate stays claimed before another request
  // may take it over (its server died). Far longer than any issuance.
  static constexpr int64_t kClaimLeaseSeconds = 300;
  struct Open {
    std::shared_ptr<OSSL_CMP_SRV_CTX> srv;
    Bytes cert;  // the certificate the certConf must confirm
  };
  Result<std::shared_ptr<OSSL_CMP_SRV_CTX>> NewServerContext(const CmpGeneration& gen);
  // CaNameFor: the database CA of the generation named `issuer` that holds
  // `serial` (the current one first); kNotFound when no generation has that name.
  Result<std::string> CaNameFor(const CmpGeneration& gen, const X509_NAME* issuer, const std::string& serial);
  // The genp answers (cmp_general.cc): each pushes one ITAV onto `out`.
  // `gen`: the generation the request started with (Req::gen).
  Status AnswerCaCerts(const CmpGeneration& gen, STACK_OF(OSSL_CMP_ITAV) * out);
  Status AnswerRootCaCert(const OSSL_CMP_ITAV* q, STACK_OF(OSSL_CMP_ITAV) * out);
  Status AnswerCrlStatusList(const CmpGeneration& gen, const OSSL_CMP_ITAV* q, STACK_OF(OSSL_CMP_ITAV) * out);
  void Process(Req& r, const Bytes& body, HttpReply& reply);
  Status Authenticate(Req& r);
  Status Authorize(Req& r, int type, IssueItem& item, std::string& profile);
  // Replayed: the certificate `serial` issued earlier in this transaction.
  Status Replayed(Req& r, std::span<const uint8_t> spki, const std::string& serial);
  // Claim / Release: the transactionID in the database (CertDb::ClaimCmpTransaction).
  Result<CmpClaim> Claim(Req& r, const std::string& token);
  void Release(Req& r, const std::string& token);
  Status IssueFor(Req& r, const OSSL_CMP_MSG* req, const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr);
  Status IssueClaimed(Req& r, int type, IssueItem item);
  void Log(const Req& r, unsigned int status);
  OSSL_CMP_PKISI* Accept(Req& r, X509** cert_out, STACK_OF(X509) * *chain_out, STACK_OF(X509) * *ca_pubs, bool ir_mac);

  CmpDeps deps_;
  est::EnrollCodes codes_;
  X509_STORE* anchors_ = nullptr;  // this CA's chain + client_anchors
  std::mutex db_mu_;               // deps_.db is one connection
  std::mutex log_mu_;
  std::mutex open_mu_;
  std::mutex signer_mu_;  // guards deps_.key and deps_.cert
  mutable std::mutex gen_mu_;
  std::shared_ptr<const CmpGeneration> gen_;  // guarded by gen_mu_
  // Transactions waiting for certConf (no implicitConfirm), by transactionID:
  // OpenSSL keeps their state (certReqId, nonces) in the server context.
  std::map<std::string, Open> open_;  // guarded by open_mu_
};

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_SERVER_CMP_SERVICE_H_
