// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonTest: a Server on a temp socket over embedded backends, in-process,
// reached by DaemonBackend clients (daemon_test.cc, daemon_sign_test.cc).
#ifndef CERTVAULT_DAEMON_DAEMON_TEST_FIXTURE_H_
#define CERTVAULT_DAEMON_DAEMON_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "daemon/server.h"
#include "src/ipc/client.h"

namespace certvault::daemon {

inline constexpr char kSoPin[] = "so-pin-1234";
inline constexpr char kUserPin[] = "user-pin-1234";
inline constexpr uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

inline SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-daemon-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    conf_ = dir_ + "/certvault.conf";
    std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n";
    config_.socket_path = dir_ + "/d.sock";
    config_.allowed_uids = {geteuid()};
    config_.frame_timeout_ms = 300;
    config_.max_sessions_per_client = 64;
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }
  void StartServer() {
    BackendOptions options{dir_ + "/vault", conf_, true};
    server_ = std::make_unique<Server>(config_, [options] { return OpenEmbeddedBackend(options); });
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  void StopServer() {
    if (server_ == nullptr) return;
    server_->Stop();
    thread_.join();
    server_.reset();
  }
  // Client: a DaemonBackend whose calls give up after `timeout_ms`. The
  // default is the library's own (ipc/client.h), so a slow sanitizer build is
  // never cut short; a test that needs a bound derives it from its own work.
  std::unique_ptr<Backend> Client(int timeout_ms = ipc::ClientOptions{}.timeout_ms) {
    ipc::ClientOptions o;
    o.socket_path = config_.socket_path;
    o.timeout_ms = timeout_ms;
    auto b = ipc::OpenDaemonBackend(o);
    EXPECT_TRUE(b.ok());
    return std::move(*b);
  }
  // A token with a user PIN; returns a logged-in R/W session of `b`.
  SessionHandle InitToken(Backend* b, SlotId* slot) {
    auto slots = b->GetSlotList(true);
    EXPECT_TRUE(slots.ok() && !slots->empty()) << slots.status().ToString();
    *slot = slots->back();
    EXPECT_TRUE(b->InitToken(*slot, Pin(kSoPin), "test").ok());
    SessionHandle so = *b->OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    EXPECT_TRUE(b->Login(so, UserType::kSo, Pin(kSoPin)).ok());
    EXPECT_TRUE(b->InitPin(so, Pin(kUserPin)).ok());
    EXPECT_TRUE(b->CloseSession(so).ok());
    SessionHandle s = *b->OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    EXPECT_TRUE(b->Login(s, UserType::kUser, Pin(kUserPin)).ok());
    return s;
  }
  ObjectHandle GenerateEc(Backend* b, SessionHandle s) {
    AttributeSet pub, priv;
    pub.Set(CKA_EC_PARAMS, kP256);
    pub.SetBool(CKA_TOKEN, true);
    priv.SetBool(CKA_TOKEN, true);
    priv.SetBool(CKA_SIGN, true);
    priv.SetString(CKA_LABEL, "key");
    auto kp = b->GenerateKeyPair(s, Mechanism{CKM_EC_KEY_PAIR_GEN, {}}, pub, priv);
    EXPECT_TRUE(kp.ok()) << kp.status().ToString();
    return kp.ok() ? kp->private_key : 0;
  }
  Status SignOnce(Backend* b, SessionHandle s, ObjectHandle key) {
    Status st = b->SignInit(s, Mechanism{CKM_ECDSA, {}}, key);
    if (!st.ok()) return st;
    uint8_t digest[32] = {1}, sig[80];
    size_t len = sizeof sig;
    return b->Sign(s, digest, OutBuf{sig, &len});
  }
  // RawConnect: a plain socket to the daemon (for hostile clients).
  int RawConnect() {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, config_.socket_path.c_str());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  }
  // ClosedByPeer: waits for EOF on fd, at most kPatienceMs: the daemon's
  // deadlines are what is tested, so the wait only bounds a hang.
  static bool ClosedByPeer(int fd, int ms = kPatienceMs) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    for (;;) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  // WaitUntil: polls `done` until it holds or kPatienceMs pass.
  template <typename Pred>
  static bool WaitUntil(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kPatienceMs);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // kPatienceMs: how long a test waits for something that must happen soon.
  // Generous on purpose: a fast machine never waits this long, and a TSan
  // build on a loaded machine must not fail for being slow.
  static constexpr int kPatienceMs = 120000;

  std::string dir_, conf_;
  DaemonConfig config_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace certvault::daemon

#endif  // CERTVAULT_DAEMON_DAEMON_TEST_FIXTURE_H_
