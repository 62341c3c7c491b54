// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaInstance::Rollover against a real token: the new generation issues
// under its own key and names, and one OCSP responder answers for both
// generations, each answer signed by that generation's delegated signer.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <atomic>
#include <thread>

#include "ca/ocsp/ocsp_ptr.h"
#include "ca/ocsp/ocsp_responder.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::ParseCert;
using testing::TestCa;

Bytes Ask(OcspResponder& responder, std::vector<OCSP_CERTID*> ids) {
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  for (OCSP_CERTID* id : ids) OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(id));  // req owns the copies
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes out(der, der + std::max(len, 0));
  OPENSSL_free(der);
  return responder.Respond(out);
}

// Answer: the basic response, verified against root + `issuing`, with the
// status of `id` (-1 if absent) and whether `signer` signed it.
struct Answer {
  int status = -1;
  bool by_signer = false;
};

// OCSP_NOCHECKS in `flags`: for a CertID of another issuer, which the
// delegated signer is not authorized for (the client's check, not the
// signature's).
Answer Check(const Bytes& der, X509* root, X509* issuing, X509* signer, OCSP_CERTID* id,
             unsigned long flags = 0) {  // NOLINT(runtime/int)
  const uint8_t* p = der.data();
  ossl::UniquePtr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  Answer a;
  if (resp == nullptr || OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) return a;
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), root);
  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, issuing);  // borrowed: the stack is freed with sk_X509_free
  EXPECT_EQ(OCSP_basic_verify(basic.get(), chain, store.get(), flags), 1);
  sk_X509_free(chain);
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());
  a.by_signer = sk_X509_num(certs) == 1 && X509_cmp(sk_X509_value(certs, 0), signer) == 0;
  int reason = 0;
  ASN1_GENERALIZEDTIME *rev = nullptr, *this_upd = nullptr, *next_upd = nullptr;
  if (OCSP_resp_find_status(basic.get(), id, &a.status, &reason, &rev, &this_upd, &next_upd) != 1) a.status = -1;
  return a;
}

// StatusIn: the status of `id` in a successful answer `der` (-1 if absent),
// -2 for anything but a successful basic response. Not verified: the
// threads of ConcurrentSwitch only look at what they got.
int StatusIn(const Bytes& der, OCSP_CERTID* id) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (resp == nullptr || OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) return -2;
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
  int status = -1, reason = 0;
  ASN1_GENERALIZEDTIME *rev = nullptr, *this_upd = nullptr, *next_upd = nullptr;
  if (basic == nullptr) return -2;
  if (OCSP_resp_find_status(basic.get(), id, &status, &reason, &rev, &this_upd, &next_upd) != 1) return -1;
  return status;
}

// UnsuccessfulStatus: the responseStatus of `der` (-1 if it does not parse).
int UnsuccessfulStatus(const Bytes& der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  return resp == nullptr ? -1 : OCSP_response_status(resp.get());
}

TEST(CaRollover, NewGenerationIssuesAndOneResponderAnswersForBoth) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto old_certs = t.IssueDevices(1, "g1");
  ASSERT_TRUE(old_certs.ok()) << old_certs.status().ToString();
  std::string old_name = t.IssuingName();
  ossl::UniquePtr<X509> old_issuing(X509_dup(t.Issuing()));
  ossl::UniquePtr<X509> old_signer(X509_dup(*t.ca().Cert(CaRole::kOcsp)));

  ASSERT_TRUE(t.ca().Rollover(false, "unit-test").ok());
  EXPECT_EQ(t.ca().Generation(CaRole::kIssuing), 2u);
  EXPECT_EQ(t.IssuingName(), old_name + "-g2");
  EXPECT_NE(EVP_PKEY_eq(X509_get0_pubkey(t.Issuing()), X509_get0_pubkey(old_issuing.get())), 1) << "a new key";
  EXPECT_EQ(t.ca().config().crl_url.find("-g2"), t.ca().config().crl_url.size() - 7) << t.ca().config().crl_url;
  auto new_certs = t.IssueDevices(1, "g2");
  ASSERT_TRUE(new_certs.ok()) << new_certs.status().ToString();
  ossl::UniquePtr<X509> old_leaf = ParseCert((*old_certs)[0].der);
  ossl::UniquePtr<X509> new_leaf = ParseCert((*new_certs)[0].der);
  EXPECT_EQ(X509_verify(new_leaf.get(), X509_get0_pubkey(t.Issuing())), 1);
  std::vector<uint32_t> retired = t.ca().LiveRetired(CaRole::kIssuing, std::time(nullptr));
  ASSERT_EQ(retired, std::vector<uint32_t>{1});

  auto r = OcspResponder::Create(t.ca().db(), t.IssuingName(), t.Issuing(), *t.ca().Cert(CaRole::kOcsp),
                                 **t.ca().Key(CaRole::kOcsp), 60);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto old_db = t.Connect();
  ASSERT_TRUE(old_db.ok());
  auto old_r = OcspResponder::Create(**old_db, old_name, *t.ca().CertOf(CaRole::kIssuing, 1),
                                     *t.ca().CertOf(CaRole::kOcsp, 1), **t.ca().KeyOf(CaRole::kOcsp, 1), 60);
  ASSERT_TRUE(old_r.ok()) << old_r.status().ToString();
  (*r)->AddRetired(std::move(*old_r));

  ossl::UniquePtr<OCSP_CERTID> old_id(OCSP_cert_to_id(EVP_sha1(), old_leaf.get(), old_issuing.get()));
  ossl::UniquePtr<OCSP_CERTID> new_id(OCSP_cert_to_id(EVP_sha256(), new_leaf.get(), t.Issuing()));
  Answer a = Check(Ask(**r, {old_id.get()}), t.Root(), old_issuing.get(), old_signer.get(), old_id.get());
  EXPECT_EQ(a.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(a.by_signer) << "generation 1's signer answers for its certificates";
  X509* new_signer = *t.ca().Cert(CaRole::kOcsp);
  a = Check(Ask(**r, {new_id.get()}), t.Root(), t.Issuing(), new_signer, new_id.get());
  EXPECT_EQ(a.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(a.by_signer);
  // A request mixing generations is answered by the first CertID's issuer;
  // it does not know the other generation's certificate.
  a = Check(Ask(**r, {new_id.get(), old_id.get()}), t.Root(), t.Issuing(), new_signer, old_id.get(), OCSP_NOCHECKS);
  EXPECT_EQ(a.status, V_OCSP_CERTSTATUS_UNKNOWN);
  // Generation 1 retired for good (its keys destroyed): its CertIDs get
  // unauthorized, generation 2 answers on (cmd_serve.cc RetireExpired).
  (*r)->Withdraw(old_name);
  EXPECT_FALSE((*r)->withdrawn());
  EXPECT_EQ(StatusIn(Ask(**r, {old_id.get()}), old_id.get()), -2);
  EXPECT_EQ(UnsuccessfulStatus(Ask(**r, {old_id.get()})), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
  EXPECT_EQ(StatusIn(Ask(**r, {new_id.get()}), new_id.get()), V_OCSP_CERTSTATUS_GOOD);
  (*r).reset();  // before the database it borrows
}

// certvault-ca serve switching generations (cmd_serve.cc SwitchIfRolled):
// the responder started with generation 1 gets generation 2's responder
// while other threads are answering. Every answer is a successful one;
// generation 1's certificate is good throughout; generation 2's is unknown
// until the switch and good (signed by generation 2's signer) after it.
// Run under TSan (the *Concurrent* filter).
TEST(CaRollover, ConcurrentSwitchAddsTheNewGenerationsResponder) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto old_certs = t.IssueDevices(1, "g1");
  ASSERT_TRUE(old_certs.ok()) << old_certs.status().ToString();
  ossl::UniquePtr<X509> old_leaf = ParseCert((*old_certs)[0].der);
  ASSERT_TRUE(t.ca().Rollover(false, "unit-test").ok());
  auto new_certs = t.IssueDevices(1, "g2");
  ASSERT_TRUE(new_certs.ok()) << new_certs.status().ToString();
  ossl::UniquePtr<X509> new_leaf = ParseCert((*new_certs)[0].der);
  X509* old_issuing = *t.ca().CertOf(CaRole::kIssuing, 1);
  auto front = OcspResponder::Create(t.ca().db(), t.ca().NameOf(CaRole::kIssuing, 1), old_issuing,
                                     *t.ca().CertOf(CaRole::kOcsp, 1), **t.ca().KeyOf(CaRole::kOcsp, 1), 60);
  ASSERT_TRUE(front.ok()) << front.status().ToString();
  auto new_db = t.Connect();
  ASSERT_TRUE(new_db.ok());
  auto added = OcspResponder::Create(**new_db, t.IssuingName(), t.Issuing(), *t.ca().Cert(CaRole::kOcsp),
                                     **t.ca().Key(CaRole::kOcsp), 60);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ossl::UniquePtr<OCSP_CERTID> old_id(OCSP_cert_to_id(EVP_sha1(), old_leaf.get(), old_issuing));
  ossl::UniquePtr<OCSP_CERTID> new_id(OCSP_cert_to_id(EVP_sha1(), new_leaf.get(), t.Issuing()));

  std::atomic<bool> switched{false}, stop{false};
  std::atomic<int> answers{0}, bad{0}, new_good{0};
  auto client = [&] {
    while (!stop) {
      if (StatusIn(Ask(**front, {old_id.get()}), old_id.get()) != V_OCSP_CERTSTATUS_GOOD) ++bad;
      bool after = switched.load();  // read before asking: an answer after the switch must be good
      int st = StatusIn(Ask(**front, {new_id.get()}), new_id.get());
      if (st == -2 || (after && st != V_OCSP_CERTSTATUS_GOOD)) ++bad;
      if (st == V_OCSP_CERTSTATUS_GOOD) ++new_good;
      ++answers;
    }
  };
  std::thread a(client), b(client);
  while (answers.load() < 4) std::this_thread::yield();
  (*front)->AddRetired(std::move(*added));
  switched = true;
  while (new_good.load() < 4) std::this_thread::yield();
  stop = true;
  a.join();
  b.join();
  EXPECT_EQ(bad.load(), 0);
  Answer got = Check(Ask(**front, {new_id.get()}), t.Root(), t.Issuing(), *t.ca().Cert(CaRole::kOcsp), new_id.get());
  EXPECT_EQ(got.status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_TRUE(got.by_signer) << "generation 2's own signer answers after the switch";
  (*front).reset();  // with the added responder, before the database it borrows
}

// Retirement: once generation 1's certificate has expired it is offered
// for retirement, which destroys its issuing and OCSP keys once (audited);
// the current generation and an unexpired one are never retired.
TEST(CaRollover, AnExpiredGenerationIsRetiredOnce) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  ASSERT_TRUE(t.ca().Rollover(false, "unit-test").ok());
  const int64_t now = std::time(nullptr);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(*t.ca().CertOf(CaRole::kIssuing, 1))), 1);
  const int64_t after = now + int64_t{days} * 86400 + secs + 1;  // just past generation 1's notAfter
  auto none = t.ca().ExpiredWithKeys(CaRole::kIssuing, now);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(t.ca().RetireGeneration(CaRole::kIssuing, 1, now, "unit-test").ok()) << "not expired yet";
  EXPECT_FALSE(t.ca().RetireGeneration(CaRole::kIssuing, 2, after, "unit-test").ok()) << "the current one";
  auto expired = t.ca().ExpiredWithKeys(CaRole::kIssuing, after);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(*expired, std::vector<uint32_t>{1});
  ASSERT_TRUE(t.ca().RetireGeneration(CaRole::kIssuing, 1, after, "unit-test").ok());
  EXPECT_EQ(t.ca().KeyOf(CaRole::kIssuing, 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(t.ca().KeyOf(CaRole::kOcsp, 1).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(t.ca().Key(CaRole::kIssuing).ok()) << "generation 2 keeps its key";
  expired = t.ca().ExpiredWithKeys(CaRole::kIssuing, after);
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->empty()) << "retired once";
  auto audit = t.ca().db().ListAudit(5);
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const AuditEvent& e : *audit) found |= e.action == "retire";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace certvault::ca
