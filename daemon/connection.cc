// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Server: one connection (its thread), the handshake and applications.
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "daemon/server.h"
#include "src/crypto/random.h"

namespace certvault::daemon {
namespace {

using ipc::Decoder;
using ipc::Encoder;
using ipc::Op;

constexpr size_t kSecretSize = 16;
constexpr size_t kOutSlack = 64 * 1024;  // see Server::Answer

void SetSendTimeout(int fd, int ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// PeerExe: the client's executable (/proc/PID/exe), for the vault's event
// log. Read while the peer is connected, so the pid is still its own. When
// the daemon may not read the link (another uid, no CAP_SYS_PTRACE), the
// process name the client chose itself: "comm:NAME".
std::string PeerExe(pid_t pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink(proc + "/exe", ec);
  if (!ec) return exe.string();
  std::ifstream comm(proc + "/comm");
  std::string name;
  if (std::getline(comm, name)) return "comm:" + name;
  return "";
}

bool SendResponse(int fd, ipc::WireBuffer* out) {
  ipc::EndFrame(out);
  bool ok = ipc::WriteAll(fd, *out).ok();
  OPENSSL_cleanse(out->data(), out->size());
  return ok;
}

}  // namespace

std::shared_ptr<App> Server::NewApp(const struct ucred& cred, std::vector<gid_t> gids, Status* status) {
  auto app = std::make_shared<App>();
  Result<std::unique_ptr<Backend>> backend = open_backend_();
  SecretBytes secret(kSecretSize);
  Status rs = backend.ok() ? crypto::RandomSecretBytes(secret.MutableBytes(SecretAccess::Get())) : backend.status();
  if (!rs.ok()) {
    *status = rs;
    return nullptr;
  }
  app->backend = std::move(*backend);
  app->backend->SetEventPeer(cred.uid, cred.pid, PeerExe(cred.pid));  // the event log's actor
  app->attach_secret = std::move(secret);
  app->uid = cred.uid;
  app->pid = cred.pid;
  app->gids = std::move(gids);  // before the app is published: other connections attach to it
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(apps_, [](const auto& e) { return e.second.expired(); });
  app->id = next_app_id_++;
  apps_[app->id] = app;
  return app;
}

std::shared_ptr<App> Server::FindApp(uint64_t id, const SecretBytes& secret, const struct ucred& cred) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = apps_.find(id);
  if (it == apps_.end()) return nullptr;
  std::shared_ptr<App> app = it->second.lock();
  // Only the same process, holding the secret, may join an application.
  if (app == nullptr || app->uid != cred.uid || app->pid != cred.pid || !(app->attach_secret == secret)) {
    return nullptr;
  }
  return app;
}

void Server::DropApp(std::shared_ptr<App> app) {
  if (app == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (app.use_count() == 1) apps_.erase(app->id);  // no other connection: FindApp cannot revive it
  }
  app.reset();  // the last one closes the application's sessions (outside the lock)
}

bool Server::Handshake(int fd, const struct ucred& cred, const ipc::FrameHeader& h, std::span<const uint8_t> body,
                       ipc::WireBuffer* out, std::shared_ptr<App>* app) {
  const Op op = static_cast<Op>(h.op);
  if (op != Op::kHello && op != Op::kAttach) return false;
  ipc::BeginFrame(out, ipc::kResponse, op);
  Encoder e(out);
  Decoder d(body);
  if (!Allowed(fd, cred)) {
    std::cerr << "certvaultd: refused a connection from uid " << cred.uid << " (not in allowed_uids/gids)\n";
    ipc::Put(e, PermissionDeniedError("certvaultd: this user is not allowed to connect"));
    (void)SendResponse(fd, out);
    return false;
  }
  Status status;
  if (op == Op::kHello) {
    if (!d.empty()) return false;
    *app = NewApp(cred, PeerGroups(fd, cred.gid), &status);
  } else {
    uint64_t id = 0;
    SecretBytes secret;
    if (!ipc::GetAll(d, &id, &secret)) return false;
    *app = FindApp(id, secret, cred);
    if (*app == nullptr) status = Status(Reason::kDeviceRemoved, "certvaultd: no such client application");
  }
  ipc::Put(e, *app != nullptr ? OkStatus() : status);
  if (*app != nullptr && op == Op::kHello) {
    ipc::PutAll(e, (*app)->id, (*app)->attach_secret, config_.max_frame, config_.max_request);
  }
  return SendResponse(fd, out) && *app != nullptr;
}

bool Server::Answer(int fd, const ipc::FrameHeader& h, std::span<const uint8_t> body, CallContext& ctx,
                    RequestParts& parts, ipc::WireBuffer* out) {
  const Op op = static_cast<Op>(h.op);
  ipc::BeginFrame(out, ipc::kResponse, op);
  Encoder e(out);
  Status part;
  if (!parts.Collect(op, body, &body, &part)) {
    ipc::Put(e, part);
    return SendResponse(fd, out);
  }
  // An output may be as large as the input and then some (a signature, a
  // tag), never less than a frame, never over max_request_bytes.
  ctx.max_out = static_cast<uint32_t>(
      std::clamp<size_t>(body.size() + kOutSlack, config_.max_frame, config_.max_request));
  Decoder d(body);
  const bool well_formed = Dispatch(op, ctx, d, e);
  parts.Clear();
  if (!well_formed) return false;  // malformed: this connection only
  if (out->size() - ipc::kLengthSize > ctx.max_out) {
    ipc::BeginFrame(out, ipc::kResponse, op);
    ipc::Put(e, Status(StatusCode::kResourceExhausted, Reason::kDeviceMemory, "response over the frame limit"));
  }
  return SendResponse(fd, out);
}

void Server::Serve(int fd, struct ucred cred) {
  SetSendTimeout(fd, config_.frame_timeout_ms);
  ipc::FrameReader reader(config_.max_frame);
  reader.set_spin_us(config_.spin_us);
  ipc::WireBuffer out;
  std::shared_ptr<App> app;
  CallContext ctx{
      .max_sessions = config_.max_sessions_per_client, .pin_mu = &pin_mu_, .token_access = &config_.token_access};
  RequestParts parts(&parts_budget_, config_.max_request);
  CpuPlacement placement(config_.cpu_pairing ? &cpu_pairing_ : nullptr);
  // The handshake must come within frame_timeout_ms: a peer that connects and
  // says nothing (allowed or not) cannot hold a connection slot.
  struct pollfd first = {fd, POLLIN, 0};
  const bool spoke = poll(&first, 1, config_.frame_timeout_ms) == 1;
  for (bool open = spoke; open;) {
    std::span<const uint8_t> frame;
    ipc::FrameHeader h;
    std::span<const uint8_t> body;
    if (!reader.Next(fd, config_.frame_timeout_ms, &frame).ok() ||
        !ipc::DecodeFrame(frame, ipc::kRequest, config_.max_frame, &h, &body).ok()) {
      break;
    }
    placement.OnRequest(SteadyNowNs(), h.cpu);
    if (app == nullptr) {
      open = Handshake(fd, cred, h, body, &out, &app);
      ctx.app = app.get();
    } else {
      open = Answer(fd, h, body, ctx, parts, &out);
    }
    reader.Discard();  // the request may hold a PIN or plaintext
  }
  ctx.app = nullptr;
  DropApp(std::move(app));
  Untrack(fd);
}

}  // namespace certvault::daemon
