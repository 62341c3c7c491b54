// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The OCSP responder behind the libmicrohttpd server, with the signing key in
// a real certvault token: client threads (OpenSSL's own HTTP client, POST and
// GET, with and without nonces) ask about many certificates while another
// thread revokes them and a poller invalidates the cache. Once a revocation
// has committed and the responder has been polled, no response may say
// "good" any more (no stale cache entry survives). Run under TSan by
// scripts/test.sh (filter *Concurrent*).
#include <gtest/gtest.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>

#include <atomic>
#include <thread>

#include "ca/http/http_server.h"
#include "ca/ocsp/ocsp_ptr.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::ParseCert;
using testing::TestCa;

enum class Via { kPost, kPostNonce, kGet };

std::string UrlEncodedBase64(const OCSP_REQUEST* req) {
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req, &der);
  std::string b64(static_cast<size_t>(4 * ((len + 2) / 3) + 1), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, len);
  OPENSSL_free(der);
  b64.resize(static_cast<size_t>(n));
  std::string out;
  for (char c : b64) {
    if (c == '+') out += "%2B";
    else if (c == '/') out += "%2F";
    else if (c == '=') out += "%3D";
    else out += c;
  }
  return out;
}

// Ask: one OCSP exchange over HTTP; the basic response (verified against the
// chain, nonce checked) or null with a test failure.
ossl::UniquePtr<OCSP_BASICRESP> Ask(uint16_t port, OCSP_CERTID* id, Via via, X509_STORE* store,
                                    STACK_OF(X509)* chain) {
  ossl::UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(id));  // req owns the copy
  if (via == Via::kPostNonce) OCSP_request_add1_nonce(req.get(), nullptr, 16);
  ossl::UniquePtr<OCSP_RESPONSE> resp;
  std::string host = "127.0.0.1:" + std::to_string(port);
  if (via == Via::kGet) {
    std::string url = "http://" + host + "/" + UrlEncodedBase64(req.get());
    ossl::UniquePtr<BIO> body(OSSL_HTTP_get(url.c_str(), "", "127.0.0.1", nullptr, nullptr, nullptr, nullptr, 0,
                                            nullptr, "application/ocsp-response", 1, 65536, 10));
    if (body != nullptr) resp.reset(d2i_OCSP_RESPONSE_bio(body.get(), nullptr));
  } else {
    ossl::UniquePtr<BIO> conn(BIO_new_connect(host.c_str()));
    if (conn != nullptr && BIO_do_connect(conn.get()) == 1) resp.reset(OCSP_sendreq_bio(conn.get(), "/", req.get()));
  }
  EXPECT_NE(resp, nullptr) << "no OCSP response over HTTP";
  if (resp == nullptr) return nullptr;
  EXPECT_EQ(OCSP_response_status(resp.get()), OCSP_RESPONSE_STATUS_SUCCESSFUL);
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
  EXPECT_NE(basic, nullptr);
  if (basic == nullptr) return nullptr;
  EXPECT_EQ(OCSP_basic_verify(basic.get(), chain, store, 0), 1) << "response does not verify";
  if (via == Via::kPostNonce) {
    EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 1) << "nonce not echoed";
  }
  return basic;
}

// Verifier: one client's trust material. Each client thread has its own
// copies: OpenSSL fills caches inside X509 objects lazily (extensions, key
// ids) while verifying, and those are not safe to share between verifying
// threads (TSan reported it inside libcrypto when the clients shared them).
struct Verifier {
  Verifier(X509* root, X509* issuing, const std::vector<ossl::UniquePtr<OCSP_CERTID>>& ids_in)
      : store(X509_STORE_new()), chain(sk_X509_new_null()) {
    root_copy.reset(X509_dup(root));
    X509_STORE_add_cert(store.get(), root_copy.get());  // the store takes its own reference
    issuing_copy.reset(X509_dup(issuing));
    sk_X509_push(chain, issuing_copy.get());  // borrowed: freed with sk_X509_free only
    for (const auto& id : ids_in) ids.emplace_back(OCSP_CERTID_dup(id.get()));
  }
  ~Verifier() { sk_X509_free(chain); }
  ossl::UniquePtr<X509_STORE> store;
  ossl::UniquePtr<X509> root_copy;
  ossl::UniquePtr<X509> issuing_copy;
  STACK_OF(X509)* chain;
  std::vector<ossl::UniquePtr<OCSP_CERTID>> ids;
};

int StatusOf(OCSP_BASICRESP* basic, OCSP_CERTID* id) {
  int status = -1, reason = -1;
  if (OCSP_resp_find_status(basic, id, &status, &reason, nullptr, nullptr, nullptr) != 1) return -1;
  return status;
}

TEST(OcspServerConcurrentTest, RevocationsReachEveryClient) {
  auto made = TestCa::Create();
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  constexpr size_t kCerts = 40;
  auto issued = t.IssueDevices(kCerts, "ocsp");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  std::vector<ossl::UniquePtr<OCSP_CERTID>> ids;
  for (const IssueOutcome& o : *issued) {
    ossl::UniquePtr<X509> cert = ParseCert(o.der);
    ids.emplace_back(OCSP_cert_to_id(EVP_sha1(), cert.get(), t.Issuing()));
  }
  auto responder = OcspResponder::Create(t.ca().db(), t.IssuingName(), t.Issuing(), *t.ca().Cert(CaRole::kOcsp),
                                         **t.ca().Key(CaRole::kOcsp), 60);
  ASSERT_TRUE(responder.ok()) << responder.status().ToString();
  HttpOptions opts;
  opts.threads = 3;
  auto server = HttpServer::Start(opts, **responder, [](const std::string&) -> Result<Bytes> {
    return NotFoundError("no CRL");
  });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  uint16_t port = (*server)->port();

  // Even-numbered certificates are revoked one by one; odd ones stay good.
  std::vector<std::atomic<bool>> polled(kCerts);
  std::atomic<bool> done{false};
  auto revoke_db = t.Connect();
  ASSERT_TRUE(revoke_db.ok());
  Status revoke_status;
  std::thread revoker([&] {
    for (size_t i = 0; i < kCerts && revoke_status.ok(); i += 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::vector<Revocation> one = {{(*issued)[i].serial, 1, 0}};
      revoke_status = (*revoke_db)->Revoke(t.IssuingName(), one, std::time(nullptr), "unit-test");
      if (revoke_status.ok()) revoke_status = (*responder)->Poll();
      polled[i] = true;  // from here on, every answer about i must say revoked
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    done = true;
  });
  std::thread poller([&] {
    while (!done) {
      (void)(*responder)->Poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::atomic<int> answers{0}, stale{0};
  std::vector<std::unique_ptr<Verifier>> verifiers;
  for (int c = 0; c < 5; ++c) verifiers.push_back(std::make_unique<Verifier>(t.Root(), t.Issuing(), ids));
  auto client = [&](int c) {
    Verifier& v = *verifiers[c];
    for (size_t round = 0; !done; ++round) {
      for (size_t i = 0; i < kCerts; ++i) {
        bool must_be_revoked = polled[i];
        Via via = static_cast<Via>((round + i + c) % 3);
        ossl::UniquePtr<OCSP_BASICRESP> basic = Ask(port, v.ids[i].get(), via, v.store.get(), v.chain);
        if (basic == nullptr) return;
        int status = StatusOf(basic.get(), v.ids[i].get());
        ++answers;
        if (i % 2 == 1) {
          EXPECT_EQ(status, V_OCSP_CERTSTATUS_GOOD);
        }
        if (must_be_revoked && status != V_OCSP_CERTSTATUS_REVOKED) ++stale;
        if (i % 2 == 0 && !must_be_revoked) {
          EXPECT_NE(status, V_OCSP_CERTSTATUS_UNKNOWN);
        }
      }
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) clients.emplace_back(client, c);
  for (std::thread& th : clients) th.join();
  revoker.join();
  poller.join();
  ASSERT_TRUE(revoke_status.ok()) << revoke_status.ToString();
  EXPECT_EQ(stale.load(), 0) << "responses said good after the revocation was committed and polled";
  EXPECT_GT(answers.load(), static_cast<int>(2 * kCerts));
  for (size_t i = 0; i < kCerts; ++i) {
    Verifier& v = *verifiers[4];
    ossl::UniquePtr<OCSP_BASICRESP> basic = Ask(port, v.ids[i].get(), Via::kPost, v.store.get(), v.chain);
    ASSERT_NE(basic, nullptr);
    EXPECT_EQ(StatusOf(basic.get(), ids[i].get()), i % 2 == 0 ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD);
  }
  OcspStats stats = (*responder)->stats();
  EXPECT_GT(stats.cache_hits, 0u);
  EXPECT_GE(stats.requests, static_cast<uint64_t>(answers.load()));
}

}  // namespace
}  // namespace certvault::ca
