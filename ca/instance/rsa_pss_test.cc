// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// signature_algorithm = "rsa-pss": every CA signature (root, issuing, OCSP
// signer and leaf certificates, CRLs, OCSP responses) is RSASSA-PSS made in
// the token (CKM_SHA256_RSA_PKCS_PSS), and verifies with OpenSSL.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>
#include <openssl/x509_vfy.h>

#include "ca/crl/crl_service.h"
#include "ca/ocsp/ocsp_ptr.h"
#include "ca/ocsp/ocsp_responder.h"
#include "ca/testing/test_ca.h"

namespace certvault::ca {
namespace {

using testing::ParseCert;
using testing::TestCa;

TEST(RsaPssTest, EverySignatureIsPssAndVerifies) {
  testing::TestCaOptions opts;
  opts.key_algorithm = "rsa-2048";
  opts.signature_algorithm = "rsa-pss";
  auto made = TestCa::Create(opts);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  TestCa& t = **made;
  auto issued = t.IssueDevices(2, "pss");
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ossl::UniquePtr<X509> leaf = ParseCert((*issued)[0].der);
  X509* ocsp = *t.ca().Cert(CaRole::kOcsp);
  for (X509* cert : {t.Root(), t.Issuing(), ocsp, leaf.get()}) {
    EXPECT_EQ(X509_get_signature_nid(cert), NID_rsassaPss);
  }
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), t.Root());
  STACK_OF(X509)* chain = sk_X509_new_null();
  sk_X509_push(chain, t.Issuing());  // borrowed: freed with sk_X509_free only
  ossl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  ASSERT_EQ(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), chain), 1);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1) << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));

  std::vector<Revocation> one = {{(*issued)[1].serial, 1, 0}};
  ASSERT_TRUE(t.ca().db().Revoke(t.IssuingName(), one, std::time(nullptr), "unit-test").ok());
  CrlRequest req{t.IssuingName(), t.Issuing(), false, 0, 1, 24, "", "", 0};
  auto crl_rec = GenerateCrl(t.ca().db(), t.IssuingKey(), req, "unit-test");
  ASSERT_TRUE(crl_rec.ok()) << crl_rec.status().ToString();
  const uint8_t* p = crl_rec->der.data();
  ossl::UniquePtr<X509_CRL> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(crl_rec->der.size())));  // NOLINT
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), NID_rsassaPss);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(t.Issuing())), 1);

  auto responder = OcspResponder::Create(t.ca().db(), t.IssuingName(), t.Issuing(), ocsp, **t.ca().Key(CaRole::kOcsp),
                                         60);
  ASSERT_TRUE(responder.ok()) << responder.status().ToString();
  ossl::UniquePtr<OCSP_REQUEST> ocsp_req(OCSP_REQUEST_new());
  OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.get(), t.Issuing());
  OCSP_request_add0_id(ocsp_req.get(), id);  // owned by ocsp_req
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(ocsp_req.get(), &der);
  Bytes request(der, der + len);
  OPENSSL_free(der);
  Bytes response = (*responder)->Respond(request);
  p = response.data();
  ossl::UniquePtr<OCSP_RESPONSE> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));  // NOLINT
  ASSERT_NE(resp, nullptr);
  ossl::UniquePtr<OCSP_BASICRESP> basic(OCSP_response_get1_basic(resp.get()));
  ASSERT_NE(basic, nullptr);
  EXPECT_EQ(OCSP_basic_verify(basic.get(), chain, store.get(), 0), 1);
  int status = -1;
  EXPECT_EQ(OCSP_resp_find_status(basic.get(), id, &status, nullptr, nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(status, V_OCSP_CERTSTATUS_GOOD);
  sk_X509_free(chain);
}

TEST(RsaPssTest, SignatureAlgorithmMustFitTheKey) {
  EXPECT_EQ(*SignatureAlgorithmFor(KeyAlgorithm::kEcP384, ""), x509::SignatureAlgorithm::kEcdsaSha384);
  EXPECT_EQ(*SignatureAlgorithmFor(KeyAlgorithm::kRsa3072, ""), x509::SignatureAlgorithm::kRsaPkcs1Sha256);
  EXPECT_EQ(*SignatureAlgorithmFor(KeyAlgorithm::kRsa3072, "rsa-pss"), x509::SignatureAlgorithm::kRsaPssSha256);
  EXPECT_EQ(*SignatureAlgorithmFor(KeyAlgorithm::kEcP256, "ecdsa"), x509::SignatureAlgorithm::kEcdsaSha256);
  EXPECT_FALSE(SignatureAlgorithmFor(KeyAlgorithm::kEcP256, "rsa-pss").ok());
  EXPECT_FALSE(SignatureAlgorithmFor(KeyAlgorithm::kEcP256, "rsa-pkcs1").ok());
  EXPECT_FALSE(SignatureAlgorithmFor(KeyAlgorithm::kRsa2048, "ecdsa").ok());
  EXPECT_FALSE(SignatureAlgorithmFor(KeyAlgorithm::kRsa2048, "pss").ok());
}

}  // namespace
}  // namespace certvault::ca
