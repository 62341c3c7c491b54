// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/pkcs11/fake_backend.h"

#include <cstring>
#include <mutex>
#include <new>
#include <set>

#include "src/base/status_macros.h"
#include "src/pkcs11/module.h"

namespace certvault::pkcs11 {

std::atomic<bool> FakeBackendControl::fail_open{false};
std::atomic<int> FakeBackendControl::opened{0};
std::atomic<bool> FakeBackendControl::throw_bad_alloc{false};

namespace {

Status Unsupported() { return Status(Reason::kFunctionNotSupported); }

class FakeBackend final : public Backend {
 public:
  Result<std::vector<SlotId>> GetSlotList(bool) override {
    if (FakeBackendControl::throw_bad_alloc) throw std::bad_alloc();
    return std::vector<SlotId>{1};
  }
  Result<SlotInfo> GetSlotInfo(SlotId slot) override {
    if (slot != 1) return Status(Reason::kSlotIdInvalid);
    return SlotInfo{1, "fake slot", "fake", CKF_TOKEN_PRESENT};
  }
  Result<TokenInfo> GetTokenInfo(SlotId slot) override {
    if (slot != 1) return Status(Reason::kSlotIdInvalid);
    TokenInfo info;
    info.label = "fake token";
    return info;
  }
  Result<std::vector<MechanismInfo>> GetMechanismList(SlotId) override {
    return std::vector<MechanismInfo>{{CKM_ECDSA, 256, 256, CKF_SIGN}, {CKM_EDDSA, 255, 255, CKF_SIGN}};
  }
  Result<MechanismInfo> GetMechanismInfo(SlotId, MechanismType type) override {
    if (type != CKM_ECDSA) return Status(Reason::kMechanismInvalid);
    return MechanismInfo{CKM_ECDSA, 256, 256, CKF_SIGN};
  }
  Status InitToken(SlotId, const SecretBytes&, std::string_view label) override {
    last_label = std::string(label);
    return OkStatus();
  }
  Status InitTokenWithOptions(SlotId, const SecretBytes&, std::string_view, const TokenOptions&) override {
    return Unsupported();
  }
  Status InitPin(SessionHandle, const SecretBytes&) override { return Unsupported(); }
  Status SetPin(SessionHandle, const SecretBytes&, const SecretBytes&) override { return Unsupported(); }
  Result<SessionHandle> OpenSession(SlotId slot, uint64_t) override {
    if (slot != 1) return Status(Reason::kSlotIdInvalid);
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.insert(++next_);
    return next_;
  }
  Status CloseSession(SessionHandle s) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.erase(s) ? OkStatus() : Status(Reason::kSessionHandleInvalid);
  }
  Status CloseAllSessions(SlotId) override { return Unsupported(); }
  Result<SessionInfo> GetSessionInfo(SessionHandle s) override {
    CV_RETURN_IF_ERROR(Check(s));
    return SessionInfo{1, CKS_RO_PUBLIC_SESSION, CKF_SERIAL_SESSION, 0};
  }
  Status Login(SessionHandle s, UserType, const SecretBytes& pin) override {
    CV_RETURN_IF_ERROR(Check(s));
    return pin.AsStringView(SecretAccess::Get()) == "1234" ? OkStatus() : Status(Reason::kPinIncorrect);
  }
  Status Logout(SessionHandle s) override { return Check(s); }
  Result<ObjectHandle> CreateObject(SessionHandle, const AttributeSet& tmpl) override {
    last_template = tmpl;
    return ObjectHandle{42};
  }
  Result<ObjectHandle> CopyObject(SessionHandle, ObjectHandle, const AttributeSet&) override { return Unsupported(); }
  Status DestroyObject(SessionHandle, ObjectHandle) override { return Unsupported(); }
  Result<uint64_t> GetObjectSize(SessionHandle, ObjectHandle) override { return Unsupported(); }
  Status GetAttributeValue(SessionHandle s, ObjectHandle o, std::vector<AttributeRequest>* requests) override;
  Status SetAttributeValue(SessionHandle, ObjectHandle, const AttributeSet&) override { return Unsupported(); }
  Status FindObjectsInit(SessionHandle, const AttributeSet&) override { return Unsupported(); }
  Result<std::vector<ObjectHandle>> FindObjects(SessionHandle, size_t) override { return Unsupported(); }
  Status FindObjectsFinal(SessionHandle) override { return Unsupported(); }
  Status EncryptInit(SessionHandle, const Mechanism&, ObjectHandle) override { return Unsupported(); }
  Status Encrypt(SessionHandle, std::span<const uint8_t>, OutBuf) override { return Unsupported(); }
  Status EncryptUpdate(SessionHandle, std::span<const uint8_t>, OutBuf) override { return Unsupported(); }
  Status EncryptFinal(SessionHandle, OutBuf) override { return Unsupported(); }
  Status DecryptInit(SessionHandle, const Mechanism&, ObjectHandle) override { return Unsupported(); }
  Status Decrypt(SessionHandle, std::span<const uint8_t>, OutBuf) override { return Unsupported(); }
  Status DecryptUpdate(SessionHandle, std::span<const uint8_t>, OutBuf) override { return Unsupported(); }
  Status DecryptFinal(SessionHandle, OutBuf) override { return Unsupported(); }
  Status DigestInit(SessionHandle, const Mechanism&) override { return Unsupported(); }
  Status Digest(SessionHandle, std::span<const uint8_t>, OutBuf) override { return Unsupported(); }
  Status DigestUpdate(SessionHandle, std::span<const uint8_t>) override { return Unsupported(); }
  Status DigestKey(SessionHandle, ObjectHandle) override { return Unsupported(); }
  Status DigestFinal(SessionHandle, OutBuf) override { return Unsupported(); }
  Status SignInit(SessionHandle s, const Mechanism& mech, ObjectHandle) override {
    last_mechanism = mech;
    return Check(s);
  }
  Status Sign(SessionHandle s, std::span<const uint8_t>, OutBuf out) override;
  Status SignUpdate(SessionHandle, std::span<const uint8_t>) override { return Unsupported(); }
  Status SignFinal(SessionHandle, OutBuf) override { return Unsupported(); }
  Status VerifyInit(SessionHandle, const Mechanism&, ObjectHandle) override { return Unsupported(); }
  Status Verify(SessionHandle, std::span<const uint8_t>, std::span<const uint8_t> sig) override {
    return sig.size() == 64 ? OkStatus() : Status(Reason::kSignatureLenRange);
  }
  Status VerifyUpdate(SessionHandle, std::span<const uint8_t>) override { return Unsupported(); }
  Status VerifyFinal(SessionHandle, std::span<const uint8_t>) override { return Unsupported(); }
  Result<ObjectHandle> GenerateKey(SessionHandle, const Mechanism&, const AttributeSet&) override {
    return Unsupported();
  }
  Result<KeyPair> GenerateKeyPair(SessionHandle, const Mechanism&, const AttributeSet&,
                                  const AttributeSet&) override {
    return KeyPair{5, 6};
  }
  Status WrapKey(SessionHandle, const Mechanism&, ObjectHandle, ObjectHandle, OutBuf) override {
    return Unsupported();
  }
  Result<ObjectHandle> UnwrapKey(SessionHandle, const Mechanism&, ObjectHandle, std::span<const uint8_t>,
                                 const AttributeSet&) override {
    return Unsupported();
  }
  Result<ObjectHandle> DeriveKey(SessionHandle, const Mechanism&, ObjectHandle, const AttributeSet&) override {
    return Unsupported();
  }
  Status VaultStatus() override { return OkStatus(); }
  Status CancelOperation(SessionHandle s, OperationKind) override { return Check(s); }
  Status SeedRandom(SessionHandle, std::span<const uint8_t>) override { return Status(Reason::kRandomSeedNotSupported); }
  Status GenerateRandom(SessionHandle s, std::span<uint8_t> out) override {
    std::memset(out.data(), 0xAB, out.size());
    return Check(s);
  }

  std::string last_label;
  AttributeSet last_template;
  Mechanism last_mechanism;

 private:
  Status Check(SessionHandle s) {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.count(s) ? OkStatus() : Status(Reason::kSessionHandleInvalid);
  }
  std::mutex mu_;
  std::set<SessionHandle> sessions_;
  SessionHandle next_ = 0;
};

Status FakeBackend::GetAttributeValue(SessionHandle s, ObjectHandle o, std::vector<AttributeRequest>* requests) {
  if (o != 7) return Status(Reason::kObjectHandleInvalid);
  Status result;
  for (AttributeRequest& r : *requests) {
    if (r.type == CKA_LABEL) {
      r.value = {'k', 'e', 'y'};
    } else if (r.type == CKA_VALUE) {
      r.status = Reason::kAttributeSensitive;
      result = Status(Reason::kAttributeSensitive);
    } else {
      r.status = Reason::kAttributeTypeInvalid;
      if (result.ok()) result = Status(Reason::kAttributeTypeInvalid);
    }
  }
  return result;
}

Status FakeBackend::Sign(SessionHandle s, std::span<const uint8_t>, OutBuf out) {
  CV_RETURN_IF_ERROR(Check(s));
  constexpr size_t kSigLen = 64;
  if (out.data == nullptr) {
    *out.len = kSigLen;
    return OkStatus();
  }
  if (*out.len < kSigLen) {
    *out.len = kSigLen;
    return Status(Reason::kBufferTooSmall);
  }
  std::memset(out.data, 0x5A, kSigLen);
  *out.len = kSigLen;
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenBackendFromEnvironment() {
  if (FakeBackendControl::fail_open) return Status(Reason::kDeviceError, "fake open failure");
  ++FakeBackendControl::opened;
  return std::unique_ptr<Backend>(std::make_unique<FakeBackend>());
}

}  // namespace certvault::pkcs11
