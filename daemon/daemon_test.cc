// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd in-process: a Server on a temp socket over embedded backends,
// reached by DaemonBackend clients. Semantics identical to embedded mode
// (length queries, kBufferTooSmall, per-application login), concurrency
// (run under TSan by scripts/test.sh), hostile clients, limits, peer
// credentials, and a daemon restart.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/daemon_test_fixture.h"

namespace certvault::daemon {
namespace {

TEST_F(DaemonTest, SignsWithPkcs11OutBufSemantics) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  ObjectHandle key = GenerateEc(b.get(), s);
  ASSERT_TRUE(b->SignInit(s, Mechanism{CKM_ECDSA, {}}, key).ok());
  uint8_t digest[32] = {7};
  size_t len = 0;
  ASSERT_TRUE(b->Sign(s, digest, OutBuf{nullptr, &len}).ok());  // length query keeps the operation
  EXPECT_EQ(len, 64u);
  uint8_t sig[64];
  size_t small = 10;
  EXPECT_EQ(b->Sign(s, digest, OutBuf{sig, &small}).reason(), Reason::kBufferTooSmall);
  EXPECT_EQ(small, 64u);
  len = sizeof sig;
  ASSERT_TRUE(b->Sign(s, digest, OutBuf{sig, &len}).ok());
  EXPECT_EQ(b->Sign(s, digest, OutBuf{sig, &len}).reason(), Reason::kOperationNotInitialized);
  // Verify through the daemon as well; a flipped bit fails with the same reason as embedded.
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_ID;
  EXPECT_TRUE(b->GetAttributeValue(s, key, &req).ok());
  EXPECT_EQ(b->CloseSession(s + 1).reason(), Reason::kSessionHandleInvalid);
  EXPECT_EQ(b->CloseSession(12345).reason(), Reason::kSessionHandleInvalid);  // not one of ours at all
}

// A sealed attribute changed through the daemon reads back (the value of a
// private data object is sealed; its change must be re-sealed, not stored
// beside the old sealed value).
TEST_F(DaemonTest, PrivateDataValueChangesAndReadsBack) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  AttributeSet data;
  data.SetUlong(CKA_CLASS, CKO_DATA);
  data.SetBool(CKA_TOKEN, true);
  data.SetBool(CKA_PRIVATE, true);
  data.SetString(CKA_VALUE, "first");
  auto obj = b->CreateObject(s, data);
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  AttributeSet change;
  change.SetString(CKA_VALUE, "second");
  ASSERT_TRUE(b->SetAttributeValue(s, *obj, change).ok());
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_VALUE;
  Status st = b->GetAttributeValue(s, *obj, &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(std::string(req[0].value.begin(), req[0].value.end()), "second");
}

// Renewal's certificate swap reaches the vault as one call (op 39).
TEST_F(DaemonTest, ReplaceCertificateIsOneCall) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  auto cert = [](uint8_t value) {
    AttributeSet t;
    t.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
    t.SetUlong(CKA_CERTIFICATE_TYPE, CKC_X_509);
    t.SetBool(CKA_TOKEN, true);
    t.SetString(CKA_LABEL, "device");
    t.Set(CKA_SUBJECT, Bytes{0x30, 0x00});
    t.Set(CKA_VALUE, Bytes(32, value));
    return t;
  };
  auto old = b->CreateObject(s, cert(1));
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  auto made = b->ReplaceCertificate(s, *old, cert(2));
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::vector<AttributeRequest> req(1);
  req[0].type = CKA_VALUE;
  ASSERT_TRUE(b->GetAttributeValue(s, *made, &req).ok());
  EXPECT_EQ(Bytes(req[0].value.begin(), req[0].value.end()), Bytes(32, 2));
  EXPECT_EQ(b->GetAttributeValue(s, *old, &req).reason(), Reason::kObjectHandleInvalid);
  EXPECT_FALSE(b->ReplaceCertificate(s, *made, AttributeSet()).ok());
}

TEST_F(DaemonTest, LoginStateIsPerApplicationAndDiesWithIt) {
  StartServer();
  auto a = Client();
  SlotId slot;
  SessionHandle s = InitToken(a.get(), &slot);
  auto b = Client();
  SessionHandle t = *b->OpenSession(slot, CKF_SERIAL_SESSION);
  EXPECT_EQ(b->GetSessionInfo(t)->state, uint64_t{CKS_RO_PUBLIC_SESSION});
  EXPECT_EQ(a->GetSessionInfo(s)->state, uint64_t{CKS_RW_USER_FUNCTIONS});
  EXPECT_EQ(server_->app_count(), 2u);
  b.reset();  // its connection drops: the daemon closes its sessions
  EXPECT_TRUE(WaitUntil([&] { return server_->app_count() == 1; }));
  EXPECT_EQ(server_->app_count(), 1u);
}

TEST_F(DaemonTest, ConcurrentThreadsAndClients) {
  StartServer();
  auto setup = Client();
  SlotId slot;
  SessionHandle s = InitToken(setup.get(), &slot);
  ObjectHandle key = GenerateEc(setup.get(), s);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Backend>> clients;
  for (int c = 0; c < 3; ++c) clients.push_back(Client());
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Backend* b = clients[t % 3].get();
      auto session = b->OpenSession(slot, CKF_SERIAL_SESSION);
      if (!session.ok()) return (void)++failures;
      // Login state is per application: the second thread of a client finds it logged in.
      Status login = b->Login(*session, UserType::kUser, Pin(kUserPin));
      if (!login.ok() && login.reason() != Reason::kUserAlreadyLoggedIn) ++failures;
      for (int i = 0; i < 20; ++i) {
        if (!SignOnce(b, *session, key).ok()) ++failures;
      }
      if (!b->CloseSession(*session).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(DaemonTest, MoreConcurrentLoginsThanPinTriesDoNotLockThePin) {
  // The core decrements the try counter before checking a PIN; the daemon
  // checks PINs one at a time, so 16 correct logins at once (pin_max_tries is
  // 10) all succeed instead of locking the PIN. The PIN gets a KDF slow
  // enough (16 MiB) that unserialized checks would overlap.
  std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 16384\nkdf_iterations = 1\n";
  StartServer();
  auto setup = Client();
  SlotId slot;
  (void)InitToken(setup.get(), &slot);
  // The logins queue behind each other: the clients' timeout is derived from
  // one login measured on this machine and build (TSan is ~10x slower).
  SessionHandle probe = *setup->OpenSession(slot, CKF_SERIAL_SESSION);
  ASSERT_TRUE(setup->Logout(probe).ok());
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(setup->Login(probe, UserType::kUser, Pin(kUserPin)).ok());
  const auto one = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const int timeout_ms = 5000 + 4 * 16 * static_cast<int>(one.count());
  std::vector<std::unique_ptr<Backend>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(Client(timeout_ms));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (auto& c : clients) {
    threads.emplace_back([&, b = c.get()] {
      auto s = b->OpenSession(slot, CKF_SERIAL_SESSION);
      if (!s.ok() || !b->Login(*s, UserType::kUser, Pin(kUserPin)).ok()) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(DaemonTest, HostileClientsAreDisconnectedOthersKeepWorking) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  ObjectHandle key = GenerateEc(b.get(), s);
  int garbage = RawConnect();
  ASSERT_EQ(send(garbage, "GET / HTTP/1.0\r\n\r\n", 18, 0), 18);
  int oversized = RawConnect();
  const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, ipc::kWireVersion, 1, 0, 3, 0, 0};
  ASSERT_EQ(send(oversized, huge, sizeof huge, 0), 10);
  int half = RawConnect();
  const uint8_t partial[] = {0, 0, 0, 14, ipc::kWireVersion, 1, 0};
  ASSERT_EQ(send(half, partial, sizeof partial, 0), 7);
  EXPECT_TRUE(SignOnce(b.get(), s, key).ok());  // while the half frame is pending
  EXPECT_TRUE(ClosedByPeer(garbage));
  EXPECT_TRUE(ClosedByPeer(oversized));
  EXPECT_TRUE(ClosedByPeer(half));  // after frame_timeout_ms
  close(garbage);
  close(oversized);
  close(half);
  EXPECT_TRUE(SignOnce(b.get(), s, key).ok());
}

TEST_F(DaemonTest, SilentPeerIsDisconnectedAfterTheHandshakeTimeout) {
  StartServer();
  int silent = RawConnect();
  EXPECT_TRUE(ClosedByPeer(silent));
  close(silent);
  EXPECT_TRUE(WaitUntil([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(server_->connection_count(), 0u);
}

// SmallFrameTest: a daemon with 4 KiB frames and requests up to 150,000
// bytes, and a logged-in session of a client.
class SmallFrameTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    config_.max_frame = 4096;
    config_.max_request = 150000;
    StartServer();
    client_ = Client();
    session_ = InitToken(client_.get(), &slot_);
  }
  std::unique_ptr<Backend> client_;
  SlotId slot_ = 0;
  SessionHandle session_ = 0;
};

TEST_F(SmallFrameTest, FrameLimitSplitsUpdatesAndSendsLargeSinglePartCallsInParts) {
  Backend* b = client_.get();
  const SessionHandle s = session_;
  std::vector<uint8_t> big(100000, 0x61);
  BackendOptions options{dir_ + "/vault", conf_, true};
  auto embedded = OpenEmbeddedBackend(options);
  ASSERT_TRUE(embedded.ok());
  SessionHandle e = *(*embedded)->OpenSession(slot_, CKF_SERIAL_SESSION);
  uint8_t whole[32], split[32], parts[32];
  size_t len = sizeof whole;
  ASSERT_TRUE((*embedded)->DigestInit(e, Mechanism{CKM_SHA256, {}}).ok());
  ASSERT_TRUE((*embedded)->Digest(e, big, OutBuf{whole, &len}).ok());
  // Multi-part updates larger than a frame go as several updates: same digest as embedded.
  ASSERT_TRUE(b->DigestInit(s, Mechanism{CKM_SHA256, {}}).ok());
  ASSERT_TRUE(b->DigestUpdate(s, big).ok());
  len = sizeof split;
  ASSERT_TRUE(b->DigestFinal(s, OutBuf{split, &len}).ok());
  EXPECT_EQ(0, std::memcmp(split, whole, 32));
  // A single-part call over a frame goes in parts and runs on the whole input.
  ASSERT_TRUE(b->DigestInit(s, Mechanism{CKM_SHA256, {}}).ok());
  len = sizeof parts;
  ASSERT_TRUE(b->Digest(s, big, OutBuf{parts, &len}).ok());
  EXPECT_EQ(0, std::memcmp(parts, whole, 32));
  // Over max_request_bytes it is refused without losing the connection or the session ...
  std::vector<uint8_t> huge(200000, 0x62);
  ASSERT_TRUE(b->DigestInit(s, Mechanism{CKM_SHA256, {}}).ok());
  len = sizeof whole;
  EXPECT_EQ(b->Digest(s, huge, OutBuf{whole, &len}).reason(), Reason::kDataLenRange);
  EXPECT_TRUE(b->GetSessionInfo(s).ok());
  // ... and, as an argument error, it ended the operation (PKCS#11 §5.2).
  EXPECT_EQ(b->DigestUpdate(s, big).reason(), Reason::kOperationNotInitialized);
}

TEST_F(SmallFrameTest, LargeSinglePartOutputsComeBackWhole) {
  Backend* b = client_.get();
  const SessionHandle s = session_;
  AttributeSet t;
  t.SetUlong(CKA_VALUE_LEN, 32);
  t.SetBool(CKA_ENCRYPT, true);
  t.SetBool(CKA_DECRYPT, true);
  auto key = b->GenerateKey(s, Mechanism{CKM_AES_KEY_GEN, {}}, t);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const Mechanism cbc{CKM_AES_CBC_PAD, Bytes(16, 0x01)};
  std::vector<uint8_t> plain(100000);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 7);
  ASSERT_TRUE(b->EncryptInit(s, cbc, *key).ok());
  size_t len = 0;
  ASSERT_TRUE(b->Encrypt(s, plain, OutBuf{nullptr, &len}).ok());  // length query keeps the operation
  std::vector<uint8_t> cipher(len);
  ASSERT_TRUE(b->Encrypt(s, plain, OutBuf{cipher.data(), &len}).ok());
  cipher.resize(len);
  EXPECT_EQ(cipher.size(), 100000u + 16);  // PKCS#7 padding of a whole number of blocks
  ASSERT_TRUE(b->DecryptInit(s, cbc, *key).ok());
  std::vector<uint8_t> back(cipher.size());
  len = back.size();
  ASSERT_TRUE(b->Decrypt(s, cipher, OutBuf{back.data(), &len}).ok());
  back.resize(len);
  EXPECT_EQ(back, plain);
}

TEST_F(DaemonTest, ContinuedPartsOverTheLimitAreRefusedAndDropped) {
  config_.max_frame = 4096;
  config_.max_request = 8192;
  StartServer();
  int fd = RawConnect();
  auto send_frame = [fd](ipc::Op op, std::span<const uint8_t> body) {
    ipc::WireBuffer f;
    ipc::BeginFrame(&f, ipc::kRequest, op);
    f.insert(f.end(), body.begin(), body.end());
    ipc::EndFrame(&f);
    return send(fd, f.data(), f.size(), 0) == static_cast<ssize_t>(f.size());
  };
  auto reply_status = [fd]() {
    uint8_t buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    return n > static_cast<ssize_t>(ipc::kHeaderSize) ? buf[ipc::kHeaderSize] : 0xff;  // the status code byte
  };
  ASSERT_TRUE(send_frame(ipc::Op::kHello, {}));
  ASSERT_EQ(reply_status(), 0);
  std::vector<uint8_t> part(4000, 0x41);
  ASSERT_TRUE(send_frame(ipc::Op::kContinued, part));
  EXPECT_EQ(reply_status(), 0);
  ASSERT_TRUE(send_frame(ipc::Op::kContinued, part));
  EXPECT_EQ(reply_status(), 0);
  ASSERT_TRUE(send_frame(ipc::Op::kContinued, part));  // 12000 > 8192
  EXPECT_EQ(reply_status(), static_cast<uint8_t>(StatusCode::kInvalidArgument));
  ASSERT_TRUE(send_frame(ipc::Op::kPing, {}));  // the parts were dropped: a plain ping again
  EXPECT_EQ(reply_status(), 0);
  close(fd);
}

TEST_F(DaemonTest, ForkedChildIsANewApplication) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  pid_t pid = fork();
  if (pid == 0) {
    // The parent's session is not the child's; the child reconnects as its own application.
    int rc = b->GetSessionInfo(s).status().reason() == Reason::kSessionHandleInvalid ? 0 : 1;
    auto own = b->OpenSession(slot, CKF_SERIAL_SESSION);
    if (!own.ok() || b->GetSessionInfo(*own)->state != CKS_RO_PUBLIC_SESSION) rc |= 2;
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(b->GetSessionInfo(s)->state, uint64_t{CKS_RW_USER_FUNCTIONS});  // the parent is unaffected
}

TEST_F(DaemonTest, UnresponsiveDaemonTimesOutInsteadOfHanging) {
  // A listener that accepts (the kernel does) but never answers, like a stopped daemon.
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, config_.socket_path.c_str());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  ipc::ClientOptions o;
  o.socket_path = config_.socket_path;
  o.timeout_ms = 300;
  auto b = ipc::OpenDaemonBackend(o);
  ASSERT_TRUE(b.ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*b)->GetSlotList(true).status().reason(), Reason::kDeviceRemoved);
  // Bounded, not hanging: the bound only has to be finite and far below the
  // library default (120 s), whatever the machine's speed.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  close(listener);
}

TEST_F(DaemonTest, SessionLimitPerClient) {
  config_.max_sessions_per_client = 3;
  StartServer();
  auto b = Client();
  auto slots = b->GetSlotList(false);
  ASSERT_TRUE(slots.ok());
  ASSERT_TRUE(b->InitToken(slots->back(), Pin(kSoPin), "t").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b->OpenSession(slots->back(), CKF_SERIAL_SESSION).ok());
  EXPECT_EQ(b->OpenSession(slots->back(), CKF_SERIAL_SESSION).status().reason(), Reason::kSessionCount);
  ASSERT_TRUE(b->CloseAllSessions(slots->back()).ok());
  EXPECT_TRUE(b->OpenSession(slots->back(), CKF_SERIAL_SESSION).ok());
}

TEST_F(DaemonTest, PeerCredentialsAreChecked) {
  config_.allowed_uids = {geteuid() + 1};
  StartServer();
  auto b = Client();
  auto slots = b->GetSlotList(false);
  ASSERT_FALSE(slots.ok());
  EXPECT_EQ(slots.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(DaemonTest, PeerGroupsAreAccepted) {
  config_.allowed_uids = {geteuid() + 1};
  config_.allowed_gids = {getegid()};
  StartServer();
  auto b = Client();
  EXPECT_TRUE(b->GetSlotList(false).ok());
  StopServer();
  gid_t groups[64];
  int n = getgroups(64, groups);
  for (int i = 0; i < n; ++i) {
    if (groups[i] == getegid()) continue;
    config_.allowed_gids = {groups[i]};  // a supplementary group only (SO_PEERGROUPS)
    StartServer();
    auto c = Client();
    EXPECT_TRUE(c->GetSlotList(false).ok());
    break;
  }
}

TEST_F(DaemonTest, RestartInvalidatesSessionsAndClientsRecover) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  ObjectHandle key = GenerateEc(b.get(), s);
  StopServer();
  Status during = SignOnce(b.get(), s, key);
  EXPECT_EQ(during.reason(), Reason::kDeviceRemoved) << during.ToString();
  EXPECT_EQ(b->GetSessionInfo(s).status().reason(), Reason::kSessionHandleInvalid);
  EXPECT_EQ(b->GetSlotList(true).status().reason(), Reason::kDeviceRemoved);  // still down
  StartServer();
  EXPECT_EQ(b->GetSessionInfo(s).status().reason(), Reason::kSessionHandleInvalid);
  auto fresh = b->OpenSession(slot, CKF_SERIAL_SESSION);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  ASSERT_TRUE(b->Login(*fresh, UserType::kUser, Pin(kUserPin)).ok());
  EXPECT_TRUE(SignOnce(b.get(), *fresh, key).ok());  // the durable key survived
  EXPECT_EQ(b->GetSessionInfo(s).status().reason(), Reason::kSessionHandleInvalid);
}

}  // namespace
}  // namespace certvault::daemon
