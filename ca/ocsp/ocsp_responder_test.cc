// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// OcspResponder with its delegated signing key in a real certvault token,
// answers read back with OpenSSL's OCSP API: good / revoked / unknown, the
// nonce echoed, the responder id and signer (the delegated OCSP certificate),
// OCSP_basic_verify against the chain, the cache and its invalidation, and
// malformedRequest for bad input.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <functional>
#include <thread>
#include <utility>

#include "ca/db/sql.h"
#include "ca/ocsp/ocsp_ptr.h"
#include "ca/ocsp/ocsp_request.h"
#include "ca/ocsp/ocsp_responder.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::ParseCert;
using testing::TestCa;

Bytes RequestDer(const OCSP_REQUEST* req) {
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req, &der);
  Bytes out(der, der + std::max(len, 0));
  OPENSSL_free(der);
  return out;
}

ossl::UniquePtr<OCSP_RESPONSE> ParseResponse(const Bytes& der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<OCSP_RESPONSE> r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  EXPECT_EQ(p, der.data() + der.size());
  return r;
}

// HookedDb: the real database, with a hook that runs after each
// FindBySerial has read its row: a revocation committing, and the cache
// being invalidated, while the responder is between its lookup and its
// cache insertion (the interleaving the OCSP server's threads allow).
class HookedDb : public CertDb {
 public:
  explicit HookedDb(CertDb& db) : db_(db) {}
  std::function<void()> after_find;
  Status InsertCertificates(std::span<const CertRecord> r, const AuditActor& a, std::vector<bool>& o,
                            std::span<const AuditEvent> refusals) override {
    return db_.InsertCertificates(r, a, o, refusals);
  }
  Result<CertRecord> FindBySerial(const std::string& ca, const std::string& serial) override {
    Result<CertRecord> r = db_.FindBySerial(ca, serial);
    if (after_find) std::exchange(after_find, nullptr)();
    return r;
  }
  Result<std::vector<CertRecord>> List(const std::string& ca, const std::string& s, size_t n) override {
    return db_.List(ca, s, n);
  }
  Status Revoke(const std::string& ca, std::span<const Revocation> r, int64_t now, const AuditActor& a) override {
    return db_.Revoke(ca, r, now, a);
  }
  Result<std::vector<RevokedEntry>> Revoked(const std::string& ca, int64_t after, int64_t now, uint32_t p,
                                            uint32_t ps) override {
    return db_.Revoked(ca, after, now, p, ps);
  }
  Result<int64_t> MaxRevocationId(const std::string& ca) override { return db_.MaxRevocationId(ca); }
  Result<std::vector<RevokedEntry>> RevokedForCrl(const std::string& ca, int64_t after, int64_t now, uint32_t p,
                                                  uint32_t ps, int64_t* out_max) override {
    return db_.RevokedForCrl(ca, after, now, p, ps, out_max);
  }
  Result<CrlRecord> StoreCrl(CrlRecord c, const AuditActor& a,
                             const std::function<Result<Bytes>(CrlRecord&)>& build) override {
    return db_.StoreCrl(std::move(c), a, build);
  }
  Result<CrlRecord> LatestCrl(const std::string& ca, bool d, uint32_t p) override { return db_.LatestCrl(ca, d, p); }
  Status AddAudit(const AuditEvent& e) override { return db_.AddAudit(e); }
  Result<std::vector<AuditEvent>> ListAudit(size_t n) override { return db_.ListAudit(n); }
  Status ReadAuditChain(int64_t from, int64_t since, const std::function<Status(const AuditEvent&)>& fn) override {
    return db_.ReadAuditChain(from, since, fn);
  }
  Result<AuditChainState> ReadAuditState() override { return db_.ReadAuditState(); }
  Status StoreCheckpoint(const AuditCheckpoint& cp) override { return db_.StoreCheckpoint(cp); }
  Result<std::vector<AuditCheckpoint>> ListCheckpoints() override { return db_.ListCheckpoints(); }
  Result<std::vector<CertRecord>> RevocationRows(const std::string& ca, bool c) override {
    return db_.RevocationRows(ca, c);
  }
  void SetAppendObserver(std::function<void(int64_t, const Bytes&)> o) override { db_.SetAppendObserver(std::move(o)); }
  Result<bool> HasRevokeRecord(const std::string& ca, const std::string& s) override {
    return db_.HasRevokeRecord(ca, s);
  }
  Result<std::string> GetMeta(const std::string& k) override { return db_.GetMeta(k); }
  Status SetMeta(const std::string& k, const std::string& v) override { return db_.SetMeta(k, v); }
  Result<int64_t> CountCertificates(const std::string& ca) override { return db_.CountCertificates(ca); }
  Status CheckIntegrity() override { return db_.CheckIntegrity(); }
  Result<int64_t> LastCrlNumber(const std::string& ca, uint32_t p) override { return db_.LastCrlNumber(ca, p); }
  Status RaiseCrlNumber(const std::string& ca, uint32_t p, int64_t n) override { return db_.RaiseCrlNumber(ca, p, n); }

 private:
  CertDb& db_;
};

class OcspResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = TestCa::Create();
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    t_ = std::move(*made);
    auto issued = t_->IssueDevices(3, "ocsp");
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    for (const IssueOutcome& o : *issued) {
      serials_.push_back(o.serial);
      ossl::UniquePtr<X509> cert = ParseCert(o.der);
      ids_.emplace_back(OCSP_cert_to_id(EVP_sha1(), cert.get(), t_->Issuing()));
    }
    std::vector<Revocation> one = {{serials_[1], 1, 0}};  // keyCompromise
    ASSERT_TRUE(t_->ca().db().Revoke(t_->IssuingName(), one, now_ - 30, "unit-test").ok());
    ocsp_cert_ = *t_->ca().Cert(CaRole::kOcsp);
    auto r = OcspResponder::Create(t_->ca().db(), t_->IssuingName(), t_->Issuing(), ocsp_cert_,
                                   **t_->ca().Key(CaRole::kOcsp), 60);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    responder_ = std::move(*r);
    store_.reset(X509_STORE_new());
    X509_STORE_add_cert(store_.get(), t_->Root());
    chain_ = sk_X509_new_null();
    sk_X509_push(chain_, t_->Issuing());  // borrowed: the stack is freed with sk_X509_free
  }
  void TearDown() override { sk_X509_free(chain_); }

  // Request: a request for `ids` (copied), with a 16-octet nonce if asked.
  ossl::UniquePtr<OCSP_REQUEST> Request(std::vector<OCSP_CERTID*> ids, bool nonce) {
    ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
    for (OCSP_CERTID* id : ids) OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(id));  // req owns the copies
    if (nonce) OCSP_request_add1_nonce(req.get(), nullptr, 16);
    return req;
  }
  // Basic: the successful, verified basic response to `req`.
  // OCSP_NOCHECKS: for CertIDs of another issuer, which the delegated
  // signer is not authorized for (the client's check, not the signature).
  ossl::UniquePtr<OCSP_BASICRESP> Basic(OCSP_REQUEST* req, unsigned long flags = 0) {  // NOLINT(runtime/int)
    ossl::UniquePtr<OCSP_RESPONSE> resp = ParseResponse(responder_->Respond(RequestDer(req)));
    EXPECT_NE(resp, nullptr);
    if (resp == nullptr) return nullptr;
    EXPECT_EQ(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
    ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
    EXPECT_NE(basic, nullptr);
    if (basic != nullptr) {
      EXPECT_EQ(OCSP_basic_verify(basic.get(), chain_, store_.get(), flags), 1);
    }
    return basic;
  }
  int StatusOf(OCSP_BASICRESP* basic, OCSP_CERTID* id, int* out_reason = nullptr, time_t* out_revoked = nullptr) {
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *rev = nullptr, *this_upd = nullptr, *next_upd = nullptr;
    if (OCSP_resp_find_status(basic, id, &status, &reason, &rev, &this_upd, &next_upd) != 1) return -1;
    EXPECT_EQ(OCSP_check_validity(this_upd, next_upd, 300, -1), 1);
    if (out_reason != nullptr) *out_reason = reason;
    struct tm tm_v;
    if (out_revoked != nullptr && rev != nullptr && ASN1_TIME_to_tm(rev, &tm_v) == 1) *out_revoked = timegm(&tm_v);
    return status;
  }
  int ErrorStatus(const Bytes& request) {
    ossl::UniquePtr<OCSP_RESPONSE> resp = ParseResponse(responder_->Respond(request));
    if (resp == nullptr) return -1;
    ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
    EXPECT_EQ(basic, nullptr) << "an error response carries no responseBytes";
    return OCSP_response_status(resp.get());
  }

  const time_t now_ = std::time(nullptr);
  std::unique_ptr<TestCa> t_;
  std::vector<std::string> serials_;
  std::vector<ossl::UniquePtr<OCSP_CERTID>> ids_;
  X509* ocsp_cert_ = nullptr;
  std::unique_ptr<OcspResponder> responder_;
  ossl::UniquePtr<X509_STORE> store_;
  STACK_OF(X509)* chain_ = nullptr;
};

TEST_F(OcspResponderTest, GoodRevokedAndUnknown) {
  ossl::UniquePtr<OCSP_CERTID> unknown_serial(OCSP_CERTID_dup(ids_[0].get()));
  ASN1_INTEGER* serial = nullptr;
  ASSERT_EQ(OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, unknown_serial.get()), 1);
  ASN1_INTEGER_set_int64(serial, 4242);  // never issued
  // The issuing CA's own certificate: issued by the root, not by this CA.
  ossl::UniquePtr<OCSP_CERTID> other_issuer(OCSP_cert_to_id(EVP_sha1(), t_->Issuing(), t_->Root()));
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get(), ids_[1].get(), unknown_serial.get()}, false);
  ossl::UniquePtr<OCSP_BASICRESP> basic = Basic(req.get());
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(OCSP_resp_count(basic.get()), 3);
  EXPECT_EQ(StatusOf(basic.get(), ids_[0].get()), V_OCSP_CERTSTATUS_GOOD);
  int reason = -1;
  time_t revoked_at = 0;
  EXPECT_EQ(StatusOf(basic.get(), ids_[1].get(), &reason, &revoked_at), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
  EXPECT_EQ(revoked_at, now_ - 30);
  EXPECT_EQ(StatusOf(basic.get(), unknown_serial.get()), V_OCSP_CERTSTATUS_UNKNOWN);
  ossl::UniquePtr<OCSP_REQUEST> foreign = Request({other_issuer.get()}, false);
  ossl::UniquePtr<OCSP_BASICRESP> foreign_basic = Basic(foreign.get(), OCSP_NOCHECKS);
  ASSERT_NE(foreign_basic, nullptr);
  EXPECT_EQ(StatusOf(foreign_basic.get(), other_issuer.get()), V_OCSP_CERTSTATUS_UNKNOWN);
  // A SHA-256 CertID names the same revoked certificate.
  auto rec = t_->ca().db().FindBySerial(t_->IssuingName(), serials_[1]);
  ASSERT_TRUE(rec.ok());
  ossl::UniquePtr<X509> cert = ParseCert(rec->der);
  ossl::UniquePtr<OCSP_CERTID> sha256_id(OCSP_cert_to_id(EVP_sha256(), cert.get(), t_->Issuing()));
  ossl::UniquePtr<OCSP_REQUEST> req256 = Request({sha256_id.get()}, false);
  ossl::UniquePtr<OCSP_BASICRESP> basic256 = Basic(req256.get());
  ASSERT_NE(basic256, nullptr);
  EXPECT_EQ(StatusOf(basic256.get(), sha256_id.get()), V_OCSP_CERTSTATUS_REVOKED);
}

TEST_F(OcspResponderTest, ResponderIsTheDelegatedSignerAndNonceIsEchoed) {
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, true);
  ossl::UniquePtr<OCSP_BASICRESP> basic = Basic(req.get());
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 1);
  ossl::UniquePtr<OCSP_REQUEST> other = Request({ids_[0].get()}, true);
  EXPECT_EQ(OCSP_check_nonce(other.get(), basic.get()), 0) << "a different nonce matches";
  // ResponderID byKey: SHA-1 of the OCSP certificate's public key.
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(basic.get(), &key_id, &name), 1);
  ASSERT_NE(key_id, nullptr);
  EXPECT_EQ(name, nullptr);
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_pubkey_digest(ocsp_cert_, EVP_sha1(), hash, &len), 1);
  EXPECT_EQ(Bytes(ASN1_STRING_get0_data(key_id), ASN1_STRING_get0_data(key_id) + ASN1_STRING_length(key_id)),
            Bytes(hash, hash + len));
  X509* signer = nullptr;
  ASSERT_EQ(OCSP_resp_get0_signer(basic.get(), &signer, nullptr), 1);
  EXPECT_EQ(X509_cmp(signer, ocsp_cert_), 0);
  EXPECT_NE(X509_cmp(signer, t_->Issuing()), 0) << "signed by the CA key, not the delegated signer";
  EXPECT_TRUE(X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN);
  EXPECT_EQ(X509_check_issued(t_->Issuing(), signer), X509_V_OK);
  EXPECT_EQ(OCSP_resp_get0_signature(basic.get()) != nullptr, true);
  // Against an unrelated trust anchor the response must not verify.
  ossl::UniquePtr<X509_STORE> wrong(X509_STORE_new());
  X509_STORE_add_cert(wrong.get(), signer);
  STACK_OF(X509)* none = sk_X509_new_null();
  EXPECT_NE(OCSP_basic_verify(basic.get(), none, wrong.get(), OCSP_NOEXPLICIT), 1);
  sk_X509_free(none);
}

TEST_F(OcspResponderTest, CacheServesUntilInvalidated) {
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[2].get()}, false);
  Bytes first = responder_->Respond(RequestDer(req.get()));
  Bytes again = responder_->Respond(RequestDer(req.get()));
  EXPECT_EQ(first, again) << "a nonce-less request is answered from the cache";
  EXPECT_GE(responder_->stats().cache_hits, 1u);
  EXPECT_EQ(responder_->stats().signatures, 1u);
  std::vector<Revocation> one = {{serials_[2], 4, 0}};
  auto other_db = t_->Connect();  // another process's connection
  ASSERT_TRUE(other_db.ok());
  ASSERT_TRUE((*other_db)->Revoke(t_->IssuingName(), one, now_, "unit-test").ok());
  EXPECT_EQ(responder_->Respond(RequestDer(req.get())), first) << "still the cached answer before the poll";
  ASSERT_TRUE(responder_->Poll().ok());
  ossl::UniquePtr<OCSP_BASICRESP> basic = Basic(req.get());
  ASSERT_NE(basic, nullptr);
  int reason = -1;
  EXPECT_EQ(StatusOf(basic.get(), ids_[2].get(), &reason), V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(reason, OCSP_REVOKED_STATUS_SUPERSEDED);
}

TEST_F(OcspResponderTest, MalformedRequestsGetMalformedRequest) {
  ossl::UniquePtr<OCSP_REQUEST> good = Request({ids_[0].get()}, false);
  Bytes der = RequestDer(good.get());
  EXPECT_EQ(ErrorStatus({}), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  EXPECT_EQ(ErrorStatus({0x30, 0x03, 0x02, 0x01, 0x01}), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  Bytes truncated(der.begin(), der.end() - 3);
  EXPECT_EQ(ErrorStatus(truncated), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  Bytes trailing = der;
  trailing.push_back(0x00);
  EXPECT_EQ(ErrorStatus(trailing), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  std::vector<OCSP_CERTID*> many(kMaxOcspSingleRequests + 1, ids_[0].get());
  ossl::UniquePtr<OCSP_REQUEST> too_many = Request(many, false);
  EXPECT_EQ(ErrorStatus(RequestDer(too_many.get())), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  ossl::UniquePtr<OCSP_REQUEST> empty(OCSP_REQUEST_new());
  EXPECT_EQ(ErrorStatus(RequestDer(empty.get())), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // OCSP_request_add1_nonce replaces a nonce: add the second one by hand.
  ossl::UniquePtr<OCSP_REQUEST> two_nonces = Request({ids_[0].get()}, true);
  X509_EXTENSION* first_nonce = OCSP_REQUEST_get_ext(two_nonces.get(), 0);
  ASSERT_NE(first_nonce, nullptr);
  ASSERT_EQ(OCSP_REQUEST_add_ext(two_nonces.get(), first_nonce, -1), 1);  // adds a copy
  ASSERT_EQ(OCSP_REQUEST_get_ext_count(two_nonces.get()), 2);
  EXPECT_EQ(ErrorStatus(RequestDer(two_nonces.get())), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // The well-formed request still works afterwards.
  ossl::UniquePtr<OCSP_BASICRESP> basic = Basic(good.get());
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(StatusOf(basic.get(), ids_[0].get()), V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspResponderTest, StatusReadBeforeAnInvalidationIsNotCached) {
  HookedDb hooked(t_->ca().db());
  auto r = OcspResponder::Create(hooked, t_->IssuingName(), t_->Issuing(), ocsp_cert_, **t_->ca().Key(CaRole::kOcsp),
                                 60);
  ASSERT_TRUE(r.ok());
  OcspResponder& responder = **r;
  auto other_db = t_->Connect();
  ASSERT_TRUE(other_db.ok());
  hooked.after_find = [&] {  // "good" has been read; now the revocation lands and is polled
    std::vector<Revocation> one = {{serials_[2], 1, 0}};
    ASSERT_TRUE((*other_db)->Revoke(t_->IssuingName(), one, now_, "unit-test").ok());
    responder.Invalidate();
  };
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[2].get()}, false);
  ossl::UniquePtr<OCSP_RESPONSE> first = ParseResponse(responder.Respond(RequestDer(req.get())));
  ASSERT_NE(first, nullptr);
  ossl::UniquePtr<OCSP_BASICRESP> first_basic(OCSP_response_get1_basic(first.get()));
  ASSERT_NE(first_basic, nullptr);
  EXPECT_EQ(StatusOf(first_basic.get(), ids_[2].get()), V_OCSP_CERTSTATUS_GOOD);  // read before the revocation
  ossl::UniquePtr<OCSP_RESPONSE> second = ParseResponse(responder.Respond(RequestDer(req.get())));
  ASSERT_NE(second, nullptr);
  ossl::UniquePtr<OCSP_BASICRESP> second_basic(OCSP_response_get1_basic(second.get()));
  ASSERT_NE(second_basic, nullptr);
  EXPECT_EQ(StatusOf(second_basic.get(), ids_[2].get()), V_OCSP_CERTSTATUS_REVOKED)
      << "a status read before the invalidation was cached after it";
}

// A CA whose clock failed its checks signs nothing: tryLater, and the
// cache (signed while the clock was good) is not served either.
TEST_F(OcspResponderTest, SuspendedResponderAnswersTryLater) {
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, false);
  Bytes der = RequestDer(req.get());
  Bytes cached = responder_->Respond(der);
  uint64_t signatures = responder_->stats().signatures;
  responder_->SetSuspended(true);
  EXPECT_EQ(ErrorStatus(der), OCSP_RESPONSE_STATUS_TRYLATER);
  EXPECT_EQ(responder_->stats().signatures, signatures);
  responder_->SetSuspended(false);
  EXPECT_EQ(OCSP_response_status(ParseResponse(responder_->Respond(der)).get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
}

// Stands in for selftest::InErrorState (the real one cannot be left, and
// would stop every later test of this process).
std::atomic<bool> g_fake_error_state{false};
bool FakeInErrorState() { return g_fake_error_state.load(); }

// The process entered the self-test error state (a periodic rerun of
// `ocsp serve` failed): from the next request on, every answer is
// internalError with nothing signed nor served from the cache, and nothing
// lifts it (not the clock check's SetSuspended(false), not the state itself).
TEST_F(OcspResponderTest, SelfTestErrorStateHaltsForGood) {
  responder_->SetErrorStateCheck(&FakeInErrorState);
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, false);
  Bytes der = RequestDer(req.get());
  EXPECT_EQ(OCSP_response_status(ParseResponse(responder_->Respond(der)).get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  EXPECT_FALSE(responder_->halted());
  const uint64_t signatures = responder_->stats().signatures;
  g_fake_error_state = true;
  EXPECT_EQ(ErrorStatus(der), OCSP_RESPONSE_STATUS_INTERNALERROR);  // the cached answer is not served
  EXPECT_TRUE(responder_->halted());
  ossl::UniquePtr<OCSP_REQUEST> with_nonce = Request({ids_[1].get()}, true);
  EXPECT_EQ(ErrorStatus(RequestDer(with_nonce.get())), OCSP_RESPONSE_STATUS_INTERNALERROR);
  g_fake_error_state = false;
  responder_->SetSuspended(false);
  EXPECT_EQ(ErrorStatus(der), OCSP_RESPONSE_STATUS_INTERNALERROR);
  EXPECT_EQ(responder_->stats().signatures, signatures);
}

// A retired key generation whose keys are destroyed (Withdraw) answers
// unauthorized (RFC 6960 §2.3), from the cache neither, and signs nothing;
// withdrawing another generation's name changes nothing here.
TEST_F(OcspResponderTest, WithdrawnGenerationAnswersUnauthorized) {
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, false);
  Bytes der = RequestDer(req.get());
  EXPECT_EQ(OCSP_response_status(ParseResponse(responder_->Respond(der)).get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  responder_->Withdraw(t_->IssuingName() + "-g9");
  EXPECT_FALSE(responder_->withdrawn());
  EXPECT_EQ(OCSP_response_status(ParseResponse(responder_->Respond(der)).get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  const uint64_t signatures = responder_->stats().signatures;
  responder_->Withdraw(t_->IssuingName());
  EXPECT_TRUE(responder_->withdrawn());
  EXPECT_EQ(ErrorStatus(der), OCSP_RESPONSE_STATUS_UNAUTHORIZED);  // the cached answer is not served
  ossl::UniquePtr<OCSP_REQUEST> with_nonce = Request({ids_[1].get()}, true);
  EXPECT_EQ(ErrorStatus(RequestDer(with_nonce.get())), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(responder_->stats().signatures, signatures);
}

TEST_F(OcspResponderTest, HaltWinsOverSuspension) {
  responder_->SetSuspended(true);
  responder_->Halt();
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, false);
  EXPECT_EQ(ErrorStatus(RequestDer(req.get())), OCSP_RESPONSE_STATUS_INTERNALERROR);
}

// The signer switches (rotation, a revoked OCSP signer) while requests that
// need a signature are answered on other threads: every answer is signed by
// one of the two signers and verifies (also run under TSan).
TEST_F(OcspResponderTest, ConcurrentSignerSwitch) {
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[0].get()}, true);
  Bytes der = RequestDer(req.get());
  X509* issuing = t_->Issuing();
  CaKey& issuing_key = t_->IssuingKey();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  auto client = [&] {
    while (!stop) {
      ossl::UniquePtr<OCSP_RESPONSE> resp = ParseResponse(responder_->Respond(der));
      ossl::UniquePtr<OCSP_BASICRESP> basic(resp ? OCSP_response_get1_basic(resp.get()) : nullptr);
      if (basic == nullptr || OCSP_basic_verify(basic.get(), chain_, store_.get(), 0) != 1) ++bad;
    }
  };
  std::thread a(client), b(client);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(responder_->UseSigner(issuing, issuing_key).ok());
    ASSERT_TRUE(responder_->UseSigner(ocsp_cert_, **t_->ca().Key(CaRole::kOcsp)).ok());
  }
  stop = true;
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_FALSE(responder_->UseSigner(issuing, **t_->ca().Key(CaRole::kOcsp)).ok()) << "a key that is not the cert's";
}

}  // namespace
}  // namespace certvault::ca

namespace certvault::ca {
namespace {

// Issue 15: a revocation reset behind the CA's back (the certificate row set
// back to good, the revocations row deleted, with sqlite3) never yields
// "good": the audit chain records the revocation, so the answer is
// internalError until it is resolved. Before, the reset row answered good.
TEST_F(OcspResponderTest, NeverGoodForARevocationTheAuditChainRecords) {
  const std::string& url = t_->ca().config().database;
  ASSERT_TRUE(url.starts_with("sqlite:"));
  auto conn = OpenSqlite(url.substr(7), false);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  ASSERT_TRUE((*conn)->Exec("UPDATE certificates SET status = 'V', revoked_at = NULL, reason = NULL WHERE serial = '" +
                            serials_[1] + "'; DELETE FROM revocations WHERE serial = '" + serials_[1] + "'")
                  .ok());
  ossl::UniquePtr<OCSP_REQUEST> req = Request({ids_[1].get()}, true);
  EXPECT_EQ(ErrorStatus(RequestDer(req.get())), OCSP_RESPONSE_STATUS_INTERNALERROR);
  ossl::UniquePtr<OCSP_REQUEST> good = Request({ids_[0].get()}, true);
  ossl::UniquePtr<OCSP_BASICRESP> basic = Basic(good.get());
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(StatusOf(basic.get(), ids_[0].get()), V_OCSP_CERTSTATUS_GOOD);
}

}  // namespace
}  // namespace certvault::ca
