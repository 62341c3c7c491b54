// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "bench/p11_loader.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "src/base/status_macros.h"

namespace certvault::bench {
namespace {

// PKCS#11 passes text as (pointer, length) of unsigned char, never NUL-terminated.
CK_UTF8CHAR_PTR Utf8(std::string_view s) {
  return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s.data()));
}

// PaddedLabel: CK_TOKEN_INFO / C_InitToken labels are 32 bytes, blank padded.
std::array<CK_UTF8CHAR, 32> PaddedLabel(std::string_view label) {
  std::array<CK_UTF8CHAR, 32> out;
  out.fill(' ');
  std::memcpy(out.data(), label.data(), std::min(label.size(), out.size()));
  return out;
}

// EC parameters as DER: the P-256 OID, and the Ed25519 OID (RFC 8410), which
// PKCS#11 v3.0 accepts for CKK_EC_EDWARDS alongside the printable-string form.
constexpr std::array<uint8_t, 10> kP256Params = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                                 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<uint8_t, 5> kEd25519Params = {0x06, 0x03, 0x2b, 0x65, 0x70};
constexpr std::array<uint8_t, 3> kRsaExponent = {0x01, 0x00, 0x01};

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

}  // namespace

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return "ECDSA P-256";
    case KeyKind::kEd25519:
      return "Ed25519";
    case KeyKind::kRsa2048:
      return "RSA-2048 PKCS#1";
    default:
      return "unknown";
  }
}

CK_MECHANISM_TYPE SignMechanism(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256:
      return CKM_ECDSA;
    case KeyKind::kEd25519:
      return CKM_EDDSA;
    case KeyKind::kRsa2048:
      return CKM_SHA256_RSA_PKCS;
    default:
      return CKM_VENDOR_DEFINED;
  }
}

Result<std::unique_ptr<P11Module>> P11Module::Load(const std::string& path) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ca::Pkcs11Library> lib, ca::Pkcs11Library::Open(path, false));
  return std::unique_ptr<P11Module>(new P11Module(std::move(lib)));
}

Result<CK_SLOT_ID> P11Module::FirstUninitializedSlot() {
  CK_ULONG count = 0;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_FALSE, nullptr, &count), "C_GetSlotList"));
  std::vector<CK_SLOT_ID> slots(count);
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_FALSE, slots.data(), &count), "C_GetSlotList"));
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info;
    if (fn_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) return slots[i];
  }
  return NotFoundError("no slot with an uninitialized token");
}

Result<CK_SLOT_ID> P11Module::FindTokenSlot(std::string_view label) {
  const auto want = PaddedLabel(label);
  CK_ULONG count = 0;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_TRUE, nullptr, &count), "C_GetSlotList"));
  std::vector<CK_SLOT_ID> slots(count);
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GetSlotList(CK_TRUE, slots.data(), &count), "C_GetSlotList"));
  for (CK_ULONG i = 0; i < count; ++i) {
    CK_TOKEN_INFO info;
    if (fn_->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
    if (std::memcmp(info.label, want.data(), want.size()) == 0) return slots[i];
  }
  return NotFoundError("token not found: " + std::string(label));
}

Result<CK_SLOT_ID> P11Module::InitToken(std::string_view label, std::string_view so_pin,
                                        std::string_view user_pin) {
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, FirstUninitializedSlot());
  auto padded = PaddedLabel(label);
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_InitToken(slot, Utf8(so_pin), so_pin.size(), padded.data()),
                             "C_InitToken"));
  CV_ASSIGN_OR_RETURN(slot, FindTokenSlot(label));  // SoftHSM2 renumbers the slot
  CK_SESSION_HANDLE session;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                                nullptr, nullptr, &session),
                             "C_OpenSession"));
  Status status = CheckRv(fn_->C_Login(session, CKU_SO, Utf8(so_pin), so_pin.size()), "C_Login(SO)");
  if (status.ok()) {
    status = CheckRv(fn_->C_InitPIN(session, Utf8(user_pin), user_pin.size()), "C_InitPIN");
    fn_->C_Logout(session);
  }
  fn_->C_CloseSession(session);
  if (!status.ok()) return status;
  return slot;
}

Result<CK_SESSION_HANDLE> P11Module::OpenSession(CK_SLOT_ID slot, std::string_view pin) {
  CK_SESSION_HANDLE session;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                                nullptr, nullptr, &session),
                             "C_OpenSession"));
  if (pin.empty()) return session;
  CK_RV rv = fn_->C_Login(session, CKU_USER, Utf8(pin), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    fn_->C_CloseSession(session);
    return CheckRv(rv, "C_Login");
  }
  return session;
}

Result<KeyPair> P11Module::GenerateKeyPair(CK_SESSION_HANDLE session, KeyKind kind, bool token) {
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE, tok = token ? CK_TRUE : CK_FALSE;
  CK_ULONG bits = 2048;
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  std::vector<CK_ATTRIBUTE> pub = {Attr(CKA_TOKEN, &tok, 1), Attr(CKA_VERIFY, &yes, 1)};
  std::vector<CK_ATTRIBUTE> priv = {Attr(CKA_TOKEN, &tok, 1), Attr(CKA_SIGN, &yes, 1),
                                    Attr(CKA_PRIVATE, &yes, 1), Attr(CKA_SENSITIVE, &yes, 1),
                                    Attr(CKA_EXTRACTABLE, &no, 1)};
  switch (kind) {
    case KeyKind::kEcP256:
      pub.push_back(Attr(CKA_EC_PARAMS, kP256Params.data(), kP256Params.size()));
      break;
    case KeyKind::kEd25519:
      mech.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
      pub.push_back(Attr(CKA_EC_PARAMS, kEd25519Params.data(), kEd25519Params.size()));
      break;
    case KeyKind::kRsa2048:
      mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
      pub.push_back(Attr(CKA_MODULUS_BITS, &bits, sizeof(bits)));
      pub.push_back(Attr(CKA_PUBLIC_EXPONENT, kRsaExponent.data(), kRsaExponent.size()));
      break;
    default:
      return InvalidArgumentError("unknown key kind");
  }
  KeyPair pair;
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_GenerateKeyPair(session, &mech, pub.data(), pub.size(),
                                                    priv.data(), priv.size(), &pair.pub, &pair.priv),
                             "C_GenerateKeyPair"));
  return pair;
}

Result<CK_OBJECT_HANDLE> P11Module::CreateDataObject(CK_SESSION_HANDLE session,
                                                     std::string_view label, bool token) {
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL tok = token ? CK_TRUE : CK_FALSE, no = CK_FALSE;
  std::array<uint8_t, 32> value{};
  std::memcpy(value.data(), label.data(), std::min(label.size(), value.size()));
  std::array<CK_ATTRIBUTE, 5> tmpl = {
      Attr(CKA_CLASS, &cls, sizeof(cls)), Attr(CKA_TOKEN, &tok, 1), Attr(CKA_PRIVATE, &no, 1),
      Attr(CKA_LABEL, label.data(), label.size()), Attr(CKA_VALUE, value.data(), value.size())};
  CK_OBJECT_HANDLE obj;
  CV_RETURN_IF_ERROR(
      CheckRv(fn_->C_CreateObject(session, tmpl.data(), tmpl.size(), &obj), "C_CreateObject"));
  return obj;
}

Result<size_t> P11Module::FindByLabel(CK_SESSION_HANDLE session, std::string_view label) {
  CK_ATTRIBUTE tmpl = Attr(CKA_LABEL, label.data(), label.size());
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_FindObjectsInit(session, &tmpl, 1), "C_FindObjectsInit"));
  std::array<CK_OBJECT_HANDLE, 16> found;
  CK_ULONG count = 0;
  Status status = CheckRv(fn_->C_FindObjects(session, found.data(), found.size(), &count),
                          "C_FindObjects");
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_FindObjectsFinal(session), "C_FindObjectsFinal"));
  CV_RETURN_IF_ERROR(status);
  return static_cast<size_t>(count);
}

Status P11Module::Sign(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE mech_type,
                       CK_OBJECT_HANDLE key, std::span<const uint8_t> msg,
                       std::vector<uint8_t>& out) {
  CK_MECHANISM mech{mech_type, nullptr, 0};
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_SignInit(session, &mech, key), "C_SignInit"));
  out.resize(512);
  CK_ULONG len = out.size();
  CV_RETURN_IF_ERROR(CheckRv(fn_->C_Sign(session, const_cast<uint8_t*>(msg.data()), msg.size(),
                                         out.data(), &len),
                             "C_Sign"));
  out.resize(len);
  return OkStatus();
}

bool P11Module::HasMechanism(CK_SLOT_ID slot, CK_MECHANISM_TYPE mech) {
  CK_MECHANISM_INFO info;
  return fn_->C_GetMechanismInfo(slot, mech, &info) == CKR_OK;
}

}  // namespace certvault::bench
