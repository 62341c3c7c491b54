// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TlsFrontEnd with a software key (the token key is covered by
// tests/ca/ca_est_test.sh): the peer record, the connection limit and the
// handshake timeout. Waits have generous upper bounds only.
#include "ca/server/tls_frontend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "src/crypto/libctx.h"

namespace certvault::ca {
namespace {

ossl::UniquePtr<X509> SelfSigned(EVP_PKEY* key, const char* cn) {
  ossl::UniquePtr<X509> cert(X509_new_ex(crypto::LibCtx(), nullptr));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_sign(cert.get(), key, nullptr);
  return cert;
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  return fd;
}

// ClosedWithin: true once the server closed `fd` (read returns 0 or an error).
bool ClosedWithin(int fd, int seconds) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, seconds * 1000) <= 0) return false;
  char c;
  return read(fd, &c, 1) <= 0;
}

class TlsFrontEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.reset(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
    cert_ = SelfSigned(key_.get(), "server");
    ctx_ = SSL_CTX_new_ex(crypto::LibCtx(), nullptr, TLS_server_method());
    ASSERT_EQ(SSL_CTX_use_certificate(ctx_, cert_.get()), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx_, key_.get()), 1);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  }
  void TearDown() override { SSL_CTX_free(ctx_); }
  std::unique_ptr<TlsFrontEnd> Start(uint32_t max_connections, uint32_t timeout_s) {
    TlsFrontEndOptions o{"127.0.0.1", 0, max_connections, timeout_s};
    auto fe = TlsFrontEnd::Start(o, ctx_, [this](int fd, const sockaddr*, socklen_t) {
      handed_fd_ = fd;
      handed_.fetch_add(1);
      return OkStatus();  // the test owns the socket now
    });
    EXPECT_TRUE(fe.ok());
    return fe.ok() ? std::move(*fe) : nullptr;
  }
  ossl::UniquePtr<EVP_PKEY> key_;
  ossl::UniquePtr<X509> cert_;
  SSL_CTX* ctx_ = nullptr;
  std::atomic<int> handed_{0};
  std::atomic<int> handed_fd_{-1};
};

TEST_F(TlsFrontEndTest, RecordsTheClientCertificate) {
  auto fe = Start(4, 30);
  ASSERT_NE(fe, nullptr);
  ossl::UniquePtr<EVP_PKEY> client_key(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  auto client_cert = SelfSigned(client_key.get(), "client");
  SSL_CTX* cctx = SSL_CTX_new_ex(crypto::LibCtx(), nullptr, TLS_client_method());
  SSL_CTX_use_certificate(cctx, client_cert.get());
  SSL_CTX_use_PrivateKey(cctx, client_key.get());
  int fd = Connect(fe->port());
  SSL* ssl = SSL_new(cctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  // TLS 1.3: the server finishes the handshake after the client's Finished; one round trip makes sure.
  for (int i = 0; i < 3000 && handed_.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(handed_.load(), 1);
  auto peer = fe->PeerOf(handed_fd_.load());
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->tls);
  EXPECT_EQ(peer->address, "127.0.0.1");
  ASSERT_NE(peer->cert, nullptr);
  EXPECT_EQ(X509_cmp(peer->cert.get(), client_cert.get()), 0);
  EXPECT_NE(peer->verify_result, X509_V_OK);  // self-signed, not an anchor: kept for the EST 403
  SSL_free(ssl);
  close(fd);
  close(handed_fd_.load());  // the server's end, which the test's handoff kept
  SSL_CTX_free(cctx);
}

TEST_F(TlsFrontEndTest, ConnectionLimitAndHandshakeTimeout) {
  auto fe = Start(1, 1);
  ASSERT_NE(fe, nullptr);
  int idle = Connect(fe->port());  // takes the one slot, never says hello
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int second = Connect(fe->port());
  EXPECT_TRUE(ClosedWithin(second, 60)) << "over the connection limit: closed at once";
  EXPECT_TRUE(ClosedWithin(idle, 60)) << "a silent client is dropped after timeout_s";
  EXPECT_EQ(handed_.load(), 0);
  EXPECT_GE(fe->handshake_failures(), 1u);
  close(idle);
  close(second);
}

// SetContext (SIGHUP reload): a connection accepted afterwards gets the new
// certificate; one accepted before keeps working with the old one.
TEST_F(TlsFrontEndTest, NewContextForNewConnectionsOnly) {
  auto fe = Start(4, 30);
  ASSERT_NE(fe, nullptr);
  SSL_CTX* cctx = SSL_CTX_new_ex(crypto::LibCtx(), nullptr, TLS_client_method());
  auto handshake = [&](int fd) {
    SSL* ssl = SSL_new(cctx);
    SSL_set_fd(ssl, fd);
    EXPECT_EQ(SSL_connect(ssl), 1);
    return ssl;
  };
  int old_fd = Connect(fe->port());
  SSL* old_ssl = handshake(old_fd);
  for (int i = 0; i < 3000 && handed_.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(handed_.load(), 1);
  int old_server_end = handed_fd_.load();

  ossl::UniquePtr<EVP_PKEY> key2(EVP_PKEY_Q_keygen(crypto::LibCtx(), nullptr, "EC", "P-256"));
  auto cert2 = SelfSigned(key2.get(), "server-2");
  SSL_CTX* ctx2 = SSL_CTX_new_ex(crypto::LibCtx(), nullptr, TLS_server_method());
  ASSERT_EQ(SSL_CTX_use_certificate(ctx2, cert2.get()), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(ctx2, key2.get()), 1);
  EXPECT_EQ(fe->OldestGenerationInUse(), 0u);
  EXPECT_EQ(fe->SetContext(ctx2), 1u);
  SSL_CTX_free(ctx2);  // the front end holds its own reference
  EXPECT_EQ(fe->OldestGenerationInUse(), 0u) << "the old connection still uses generation 0";

  int new_fd = Connect(fe->port());
  SSL* new_ssl = handshake(new_fd);
  ossl::UniquePtr<X509> seen(SSL_get1_peer_certificate(new_ssl));
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(X509_cmp(seen.get(), cert2.get()), 0) << "a new connection after SetContext";
  ossl::UniquePtr<X509> old_seen(SSL_get1_peer_certificate(old_ssl));
  EXPECT_EQ(X509_cmp(old_seen.get(), cert_.get()), 0);

  ASSERT_EQ(SSL_write(old_ssl, "ping", 4), 4);  // the old connection still carries bytes to the server
  pollfd p{old_server_end, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 60000), 1);
  char buf[4] = {0};
  EXPECT_EQ(read(old_server_end, buf, sizeof(buf)), 4);
  EXPECT_EQ(std::string(buf, 4), "ping");
  for (int i = 0; i < 3000 && handed_.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  SSL_free(old_ssl);
  close(old_fd);
  close(old_server_end);
  // Once the old connection has ended, generation 0's context may be freed.
  for (int i = 0; i < 6000 && fe->OldestGenerationInUse() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(fe->OldestGenerationInUse(), 1u);
  SSL_free(new_ssl);
  close(new_fd);
  if (handed_.load() == 2) close(handed_fd_.load());
  SSL_CTX_free(cctx);
}

}  // namespace
}  // namespace certvault::ca
