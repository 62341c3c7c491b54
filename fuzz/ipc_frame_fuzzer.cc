// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ipc_frame_fuzzer: the certvaultd frame decoder and every request decoder
// behind it (src/ipc/wire.h, src/ipc/codec.h, daemon/dispatch.cc). The input
// is a byte stream as a client would send it: frames are cut by their
// length prefix (ParseLength), checked by DecodeFrame, and each request is
// dispatched to a backend that answers without state, so the server's
// argument decoding and reply encoding run on fuzzed bodies. The same bytes
// are also decoded as a response frame with the client's status decoder.
#include <cstdint>
#include <span>

#include "daemon/dispatch.h"
#include "daemon/request_parts.h"
#include "src/ipc/codec.h"
#include "src/ipc/wire.h"

namespace {

using namespace certvault;  // NOLINT: fuzzer-local

// NullBackend: answers every call without state; OutBuf calls write 16 bytes.
class NullBackend final : public Backend {
 public:
  Result<std::vector<SlotId>> GetSlotList(bool token_present) override { return std::vector<SlotId>{1, 2}; }
  Result<SlotInfo> GetSlotInfo(SlotId slot) override { return Status(Reason::kFunctionNotSupported); }
  Result<TokenInfo> GetTokenInfo(SlotId slot) override { return TokenInfo{}; }
  Result<std::vector<MechanismInfo>> GetMechanismList(SlotId slot) override { return std::vector<MechanismInfo>(2); }
  Result<MechanismInfo> GetMechanismInfo(SlotId slot, MechanismType type) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status InitToken(SlotId slot, const SecretBytes& so_pin, std::string_view label) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status InitTokenWithOptions(SlotId slot, const SecretBytes& so_pin, std::string_view label,
                              const TokenOptions& options) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status InitPin(SessionHandle session, const SecretBytes& pin) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status SetPin(SessionHandle session, const SecretBytes& old_pin, const SecretBytes& new_pin) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<SessionHandle> OpenSession(SlotId slot, uint64_t flags) override { return SessionHandle{slot + 1}; }
  Status CloseSession(SessionHandle session) override { return Status(Reason::kFunctionNotSupported); }
  Status CloseAllSessions(SlotId slot) override { return Status(Reason::kFunctionNotSupported); }
  Result<SessionInfo> GetSessionInfo(SessionHandle session) override { return Status(Reason::kFunctionNotSupported); }
  Status Login(SessionHandle session, UserType user, const SecretBytes& pin) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Logout(SessionHandle session) override { return Status(Reason::kFunctionNotSupported); }
  Result<ObjectHandle> CreateObject(SessionHandle session, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<ObjectHandle> CopyObject(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status DestroyObject(SessionHandle session, ObjectHandle object) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<uint64_t> GetObjectSize(SessionHandle session, ObjectHandle object) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status GetAttributeValue(SessionHandle session, ObjectHandle object,
                           std::vector<AttributeRequest>* requests) override {
    for (auto& r : *requests) r.value.assign(3, 0x5a);
    return OkStatus();
  }
  Status SetAttributeValue(SessionHandle session, ObjectHandle object, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status FindObjectsInit(SessionHandle session, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<std::vector<ObjectHandle>> FindObjects(SessionHandle session, size_t max) override {
    return std::vector<ObjectHandle>(max < 4 ? max : 4, 7);
  }
  Status FindObjectsFinal(SessionHandle session) override { return Status(Reason::kFunctionNotSupported); }
  Status EncryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Encrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status EncryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status EncryptFinal(SessionHandle session, OutBuf out) override { return Fill(out); }
  Status DecryptInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Decrypt(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status DecryptUpdate(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status DecryptFinal(SessionHandle session, OutBuf out) override { return Fill(out); }
  Status DigestInit(SessionHandle session, const Mechanism& mech) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Digest(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status DigestUpdate(SessionHandle session, std::span<const uint8_t> in) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status DigestKey(SessionHandle session, ObjectHandle key) override { return Status(Reason::kFunctionNotSupported); }
  Status DigestFinal(SessionHandle session, OutBuf out) override { return Fill(out); }
  Status SignInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Sign(SessionHandle session, std::span<const uint8_t> in, OutBuf out) override { return Fill(out); }
  Status SignUpdate(SessionHandle session, std::span<const uint8_t> in) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status SignFinal(SessionHandle session, OutBuf out) override { return Fill(out); }
  Status VerifyInit(SessionHandle session, const Mechanism& mech, ObjectHandle key) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status Verify(SessionHandle session, std::span<const uint8_t> in, std::span<const uint8_t> sig) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status VerifyUpdate(SessionHandle session, std::span<const uint8_t> in) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status VerifyFinal(SessionHandle session, std::span<const uint8_t> sig) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status CancelOperation(SessionHandle session, OperationKind kind) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<ObjectHandle> GenerateKey(SessionHandle session, const Mechanism& mech, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<KeyPair> GenerateKeyPair(SessionHandle session, const Mechanism& mech, const AttributeSet& public_tmpl,
                                  const AttributeSet& private_tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status WrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle wrapping_key, ObjectHandle key,
                 OutBuf out) override {
    return Fill(out);
  }
  Result<ObjectHandle> UnwrapKey(SessionHandle session, const Mechanism& mech, ObjectHandle unwrapping_key,
                                 std::span<const uint8_t> wrapped, const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Result<ObjectHandle> DeriveKey(SessionHandle session, const Mechanism& mech, ObjectHandle base_key,
                                 const AttributeSet& tmpl) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status VaultStatus() override { return Status(Reason::kFunctionNotSupported); }
  Status SeedRandom(SessionHandle session, std::span<const uint8_t> seed) override {
    return Status(Reason::kFunctionNotSupported);
  }
  Status GenerateRandom(SessionHandle session, std::span<uint8_t> out) override {
    return Status(Reason::kFunctionNotSupported);
  }

 private:
  static Status Fill(OutBuf out) {
    if (out.len == nullptr) return Status(Reason::kArgumentsBad);
    if (out.data == nullptr) {
      *out.len = 16;
      return OkStatus();
    }
    if (*out.len < 16) {
      *out.len = 16;
      return Status(Reason::kBufferTooSmall);
    }
    for (size_t i = 0; i < 16; ++i) out.data[i] = static_cast<uint8_t>(i);
    *out.len = 16;
    return OkStatus();
  }
};

constexpr uint32_t kMaxFrame = 1u << 16;

void DecodeAsResponse(std::span<const uint8_t> frame) {
  ipc::FrameHeader h;
  std::span<const uint8_t> body;
  if (!ipc::DecodeFrame(frame, ipc::kResponse, kMaxFrame, &h, &body).ok()) return;
  ipc::Decoder d(body);
  Status status;
  if (!ipc::Get(d, &status)) return;
  std::vector<uint64_t> handles;
  TokenInfo info;
  (void)(ipc::Get(d, &handles) && ipc::Get(d, &info));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static NullBackend* backend = new NullBackend();
  static auto* app = new daemon::App();
  if (app->backend == nullptr) app->backend.reset(backend);
  static std::mutex pin_mu;
  daemon::CallContext ctx;
  ctx.app = app;
  ctx.pin_mu = &pin_mu;
  ctx.max_sessions = 8;
  ctx.max_out = kMaxFrame;
  static daemon::PartsBudget budget(4 * kMaxFrame);
  daemon::RequestParts parts(&budget, 2 * kMaxFrame);
  std::span<const uint8_t> in(data, size);
  ipc::WireBuffer out;
  while (in.size() >= ipc::kLengthSize) {
    Result<uint32_t> len = ipc::ParseLength(in, kMaxFrame);
    if (!len.ok() || in.size() - ipc::kLengthSize < *len) break;  // the server would close the connection
    std::span<const uint8_t> frame = in.first(ipc::kLengthSize + *len);
    in = in.subspan(frame.size());
    DecodeAsResponse(frame);
    ipc::FrameHeader h;
    std::span<const uint8_t> body;
    if (!ipc::DecodeFrame(frame, ipc::kRequest, kMaxFrame, &h, &body).ok()) break;
    ipc::BeginFrame(&out, ipc::kResponse, static_cast<ipc::Op>(h.op));
    ipc::Encoder e(&out);
    Status part;
    if (!parts.Collect(static_cast<ipc::Op>(h.op), body, &body, &part)) continue;  // a part: answered with `part`
    ipc::Decoder d(body);
    const bool well_formed = daemon::Dispatch(static_cast<ipc::Op>(h.op), ctx, d, e);
    parts.Clear();
    if (!well_formed) break;
    ipc::EndFrame(&out);
  }
  std::lock_guard<std::mutex> lock(app->mu);
  app->sessions.clear();
  return 0;
}
