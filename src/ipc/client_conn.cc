// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// DaemonBackend: connections, the handshake and the round trip.
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "src/base/status_macros.h"
#include "src/ipc/daemon_backend.h"

namespace certvault::ipc {
namespace {

std::atomic<uint64_t> g_fork_generation{0};
std::once_flag g_atfork_once;
void BumpForkGeneration() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

constexpr size_t kSecretSize = 16;

// CpuHint: the frame's cpu field, this thread's CPU + 1 (0 if unknown). The
// daemon may run the connection's thread there (daemon/cpu_pairing.h).
uint16_t CpuHint() {
  const int cpu = sched_getcpu();
  return cpu >= 0 && cpu < 0xffff ? static_cast<uint16_t>(cpu + 1) : 0;
}

}  // namespace

Status DeviceRemoved(const Status& cause) {
  return Status(StatusCode::kUnavailable, Reason::kDeviceRemoved,
                std::string("connection to certvaultd lost: ") + std::string(cause.message()));
}

Status MalformedResponse() {
  return Status(StatusCode::kInternal, Reason::kDeviceError, "malformed response from certvaultd");
}

DaemonBackend::DaemonBackend(ClientOptions options)
    : options_(std::move(options)), fork_generation_(g_fork_generation.load(std::memory_order_relaxed)) {}

DaemonBackend::~DaemonBackend() {
  std::lock_guard<std::mutex> lock(mu_);
  ResetLocked();
}

void DaemonBackend::ResetLocked() {
  for (auto& c : idle_) close(c->fd);  // the daemon closes the application when its last connection goes
  idle_.clear();
  epoch_ = 0;
  app_id_ = 0;
  attach_secret_ = SecretBytes();
  std::lock_guard<std::mutex> lock(sign_mu_);
  sign_.clear();  // its sessions are gone
}

bool DaemonBackend::SessionCurrent(SessionHandle session) {
  std::lock_guard<std::mutex> lock(mu_);
  return fork_generation_ == g_fork_generation.load(std::memory_order_relaxed) && epoch_ != 0 &&
         static_cast<uint16_t>(session >> kEpochShift) == epoch_;
}

Result<std::unique_ptr<DaemonBackend::Conn>> DaemonBackend::Acquire(std::optional<uint16_t> session_epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t gen = g_fork_generation.load(std::memory_order_relaxed);
  if (gen != fork_generation_) {  // a forked child: the parent's application is not ours
    fork_generation_ = gen;
    ResetLocked();
  }
  if (session_epoch && (epoch_ == 0 || *session_epoch != epoch_)) {
    return Status(Reason::kSessionHandleInvalid, "session of an earlier connection to certvaultd");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Conn> c = std::move(idle_.back());
    idle_.pop_back();
    c->reused = true;
    return c;
  }
  Result<std::unique_ptr<Conn>> conn = Connect(epoch_ != 0);
  // The daemon is gone (or restarted and forgot us): so are our sessions.
  if (!conn.ok() && conn.status().reason() == Reason::kDeviceRemoved) ResetLocked();
  return conn;
}

void DaemonBackend::Release(std::unique_ptr<Conn> conn, bool healthy) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool current = conn->epoch == epoch_ && fork_generation_ == g_fork_generation.load(std::memory_order_relaxed);
  if (healthy && current) {
    idle_.push_back(std::move(conn));
    return;
  }
  close(conn->fd);
  // A broken connection means the daemon (or our application in it) is gone.
  if (!healthy && current) ResetLocked();
}

Result<std::unique_ptr<DaemonBackend::Conn>> DaemonBackend::Connect(bool attach) {
  auto conn = std::make_unique<Conn>(options_.max_frame, options_.spin_us);
  Result<int> fd = ConnectUnix(options_.socket_path, options_.timeout_ms);
  if (!fd.ok()) return DeviceRemoved(fd.status());
  conn->fd = *fd;
  Status s = Handshake(*conn, attach);
  if (!s.ok()) {
    close(conn->fd);
    return s;
  }
  return conn;
}

Status DaemonBackend::Handshake(Conn& conn, bool attach) {
  BeginFrame(&conn.out, kRequest, attach ? Op::kAttach : Op::kHello);
  Encoder e(&conn.out);
  if (attach) PutAll(e, app_id_, attach_secret_);
  EndFrame(&conn.out);
  Status status;
  std::span<const uint8_t> body;
  Status io = Exchange(conn, conn.out, attach ? Op::kAttach : Op::kHello, &status, &body);
  if (!io.ok()) return io.reason() == Reason::kDeviceError ? io : DeviceRemoved(io);
  Decoder d(body);
  if (!status.ok()) return d.empty() ? status : MalformedResponse();
  if (!attach) {
    uint64_t app_id = 0;
    uint32_t limit = 0, total = 0;
    SecretBytes secret;
    if (!GetAll(d, &app_id, &secret, &limit, &total) || secret.size() != kSecretSize || limit < 4096 ||
        total < limit) {
      return MalformedResponse();
    }
    app_id_ = app_id;
    request_limit_.store(limit, std::memory_order_relaxed);
    request_total_.store(total, std::memory_order_relaxed);
    attach_secret_ = std::move(secret);
    if (++last_epoch_ == 0) last_epoch_ = 1;
    epoch_ = last_epoch_;
  } else if (!d.empty()) {
    return MalformedResponse();
  }
  conn.epoch = epoch_;
  conn.request_limit = request_limit_.load(std::memory_order_relaxed);
  conn.request_total = request_total_.load(std::memory_order_relaxed);
  return OkStatus();
}

Status DaemonBackend::Exchange(Conn& conn, WireBuffer& request, Op op, Status* status,
                               std::span<const uint8_t>* body) {
  SetFrameCpu(&request, CpuHint());
  CV_RETURN_IF_ERROR(WriteAll(conn.fd, request));
  OPENSSL_cleanse(request.data(), request.size());  // may hold a PIN
  std::span<const uint8_t> frame;
  Status rs = conn.reader.Next(conn.fd, options_.timeout_ms, &frame);
  if (rs.code() == StatusCode::kInvalidArgument) return MalformedResponse();
  CV_RETURN_IF_ERROR(rs);
  FrameHeader header;
  std::span<const uint8_t> rest;
  if (!DecodeFrame(frame, kResponse, options_.max_frame, &header, &rest).ok() ||
      header.op != static_cast<uint16_t>(op) || conn.reader.buffered() != 0) {
    return MalformedResponse();
  }
  Decoder d(rest);
  if (!Get(d, status)) return MalformedResponse();
  *body = rest.subspan(rest.size() - d.remaining());
  return OkStatus();
}

Status DaemonBackend::SendLeadingParts(Conn& conn, Status* refused) {
  const size_t part = conn.request_limit - kHeaderRest;  // body bytes per frame
  size_t at = kHeaderSize;                                // the body starts after the header
  WireBuffer frame;
  while (conn.out.size() - at > part) {
    BeginFrame(&frame, kRequest, Op::kContinued);
    frame.insert(frame.end(), conn.out.begin() + at, conn.out.begin() + at + part);
    EndFrame(&frame);
    at += part;
    std::span<const uint8_t> body;
    CV_RETURN_IF_ERROR(Exchange(conn, frame, Op::kContinued, refused, &body));
    const bool only_status = body.empty();
    conn.reader.Discard();
    if (!only_status) return MalformedResponse();
    if (!refused->ok()) return OkStatus();
  }
  // The call's own frame: its header, then what is left of the body.
  std::copy(conn.out.begin() + at, conn.out.end(), conn.out.begin() + kHeaderSize);
  OPENSSL_cleanse(conn.out.data() + kHeaderSize + (conn.out.size() - at), at - kHeaderSize);
  conn.out.resize(conn.out.size() - (at - kHeaderSize));
  EndFrame(&conn.out);
  return OkStatus();
}

Status DaemonBackend::RefuseOversized(const Request& req) {
  const uint16_t op = static_cast<uint16_t>(req.op);
  auto in = [op](Op lo, Op hi) { return op >= static_cast<uint16_t>(lo) && op <= static_cast<uint16_t>(hi); };
  std::optional<OperationKind> kind;
  if (in(Op::kEncryptInit, Op::kEncryptFinal)) kind = OperationKind::kEncrypt;
  if (in(Op::kDecryptInit, Op::kDecryptFinal)) kind = OperationKind::kDecrypt;
  if (in(Op::kDigestInit, Op::kDigestFinal)) kind = OperationKind::kDigest;
  if (in(Op::kSignInit, Op::kSignFinal)) kind = OperationKind::kSign;
  if (in(Op::kVerifyInit, Op::kVerifyFinal)) kind = OperationKind::kVerify;
  if (kind && req.session) (void)CancelOperation(*req.session, *kind);
  return Status(StatusCode::kInvalidArgument, Reason::kDataLenRange, "request exceeds certvaultd's frame limit");
}

Status DaemonBackend::Ping() {
  return Call(
      {Op::kPing, std::nullopt, true}, [](Encoder&) {}, [](Decoder&, const Status&) { return true; });
}

Result<std::unique_ptr<Backend>> OpenDaemonBackend(const ClientOptions& options) {
  if (options.socket_path.empty()) return InvalidArgumentError("no certvaultd socket path");
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, BumpForkGeneration); });
  ClientOptions o = options;
  if (const char* t = std::getenv("CERTVAULT_IPC_TIMEOUT_MS"); t != nullptr && *t != '\0') {
    char* end = nullptr;
    long v = std::strtol(t, &end, 10);
    if (*end != '\0' || v < 100 || v > 3600000) return InvalidArgumentError("CERTVAULT_IPC_TIMEOUT_MS out of range");
    o.timeout_ms = static_cast<int>(v);
  }
  if (const char* t = std::getenv("CERTVAULT_IPC_SPIN_US"); t != nullptr && *t != '\0') {
    char* end = nullptr;
    long v = std::strtol(t, &end, 10);
    if (*end != '\0' || v < 0 || v > 10000) return InvalidArgumentError("CERTVAULT_IPC_SPIN_US out of range");
    o.spin_us = static_cast<int>(v);
  }
  return std::unique_ptr<Backend>(new DaemonBackend(std::move(o)));
}

Status PingDaemon(Backend* backend) {
  auto* daemon = dynamic_cast<DaemonBackend*>(backend);
  if (daemon == nullptr) return InvalidArgumentError("not a certvaultd client");
  return daemon->Ping();
}

}  // namespace certvault::ipc
