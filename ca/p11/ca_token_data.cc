// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CaToken::ReadData / WriteData: a small private data object in the token,
// next to the CA keys. The CA keeps there what must not go backwards when
// its database is restored from an older backup (see ca/instance/ca_state.h).
#include <array>
#include <string_view>
#include <vector>

#include "ca/p11/ca_key.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

constexpr std::string_view kApplication = "certvault-ca";

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

// FindAll: every data object labelled `label` (at most 16).
Result<std::vector<CK_OBJECT_HANDLE>> FindAll(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session,
                                              const std::string& label) {
  CK_OBJECT_CLASS cls = CKO_DATA;
  std::array<CK_ATTRIBUTE, 2> tmpl = {Attr(CKA_CLASS, &cls, sizeof(cls)), Attr(CKA_LABEL, label.data(), label.size())};
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsInit(session, tmpl.data(), tmpl.size()), "C_FindObjectsInit"));
  std::vector<CK_OBJECT_HANDLE> found(16);
  CK_ULONG count = 0;
  Status status = CheckRv(fn->C_FindObjects(session, found.data(), found.size(), &count), "C_FindObjects");
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsFinal(session), "C_FindObjectsFinal"));
  CV_RETURN_IF_ERROR(status);
  found.resize(count);
  return found;
}

// ReadValue: CKA_VALUE of `obj`; kNotFound when another process destroyed
// it since it was found.
Result<Bytes> ReadValue(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj) {
  CK_ATTRIBUTE value = Attr(CKA_VALUE, nullptr, 0);
  CK_RV rv = fn->C_GetAttributeValue(session, obj, &value, 1);
  if (rv == CKR_OBJECT_HANDLE_INVALID) return NotFoundError("the CA state object was replaced");
  CV_RETURN_IF_ERROR(CheckRv(rv, "C_GetAttributeValue"));
  if (value.ulValueLen > (1u << 20)) return DataLossError("the CA state object in the token is too large");
  Bytes out(static_cast<size_t>(value.ulValueLen));
  value.pValue = out.data();
  rv = fn->C_GetAttributeValue(session, obj, &value, 1);
  if (rv == CKR_OBJECT_HANDLE_INVALID) return NotFoundError("the CA state object was replaced");
  CV_RETURN_IF_ERROR(CheckRv(rv, "C_GetAttributeValue"));
  out.resize(static_cast<size_t>(value.ulValueLen));
  return out;
}

}  // namespace

// ReadDataObjects: a writer in another process may destroy an object between
// C_FindObjects and C_GetAttributeValue; its replacement was created before,
// so a fresh search finds it. Bounded: each retry needs another write.
Result<CaToken::DataObjects> CaToken::ReadDataObjects(const std::string& label) {
  CK_FUNCTION_LIST* fn = module_->fn();
  for (int attempt = 0; attempt < 16; ++attempt) {
    DataObjects out;
    CV_ASSIGN_OR_RETURN(out.handles, FindAll(fn, login_session_, label));
    bool replaced = false;
    for (CK_OBJECT_HANDLE obj : out.handles) {
      Result<Bytes> value = ReadValue(fn, login_session_, obj);
      if (value.status().code() == StatusCode::kNotFound) replaced = true;
      if (replaced) break;
      CV_RETURN_IF_ERROR(value.status());
      out.values.push_back(*std::move(value));
    }
    if (!replaced) return out;
  }
  return UnavailableError("the CA state object in the token keeps changing: too many concurrent writers");
}

Result<std::vector<Bytes>> CaToken::ReadData(const std::string& label) {
  CV_ASSIGN_OR_RETURN(DataObjects objects, ReadDataObjects(label));
  return std::move(objects.values);
}

// WriteData: the new value goes into a new object before the old ones are
// destroyed, so a crash in between leaves two objects (ReadData returns
// both; the caller merges) and never none. Only the objects the caller read
// are destroyed: a value written by another process meanwhile is kept, not
// lost. C_SetAttributeValue is not used: it would overwrite in place, and not
// every module handles a private object's CKA_VALUE there.
Status CaToken::WriteData(const std::string& label, std::span<const uint8_t> value,
                          std::span<const CK_OBJECT_HANDLE> replaces) {
  CK_FUNCTION_LIST* fn = module_->fn();
  CK_OBJECT_CLASS cls = CKO_DATA;
  CK_BBOOL yes = CK_TRUE;
  std::array<CK_ATTRIBUTE, 6> tmpl = {Attr(CKA_CLASS, &cls, sizeof(cls)),
                                      Attr(CKA_TOKEN, &yes, 1),
                                      Attr(CKA_PRIVATE, &yes, 1),
                                      Attr(CKA_LABEL, label.data(), label.size()),
                                      Attr(CKA_APPLICATION, kApplication.data(), kApplication.size()),
                                      Attr(CKA_VALUE, value.data(), value.size())};
  CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
  CV_RETURN_IF_ERROR(
      CheckRv(fn->C_CreateObject(login_session_, tmpl.data(), tmpl.size(), &created), "C_CreateObject"));
  for (CK_OBJECT_HANDLE obj : replaces) {
    CK_RV rv = fn->C_DestroyObject(login_session_, obj);
    if (rv == CKR_OBJECT_HANDLE_INVALID) continue;  // another process replaced it first
    CV_RETURN_IF_ERROR(CheckRv(rv, "C_DestroyObject"));
  }
  return OkStatus();
}

Status CaToken::DestroyKeyPair(const std::string& label) {
  for (CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    Result<CK_OBJECT_HANDLE> obj = FindObject(login_session_, cls, label);
    if (obj.status().code() == StatusCode::kNotFound) continue;
    CV_RETURN_IF_ERROR(obj.status());
    CK_RV rv = module_->fn()->C_DestroyObject(login_session_, *obj);
    if (rv == CKR_ACTION_PROHIBITED) {
      return PermissionDeniedError("key " + label + " is quorum-protected: destroy it under the token's quorum "
                                     "(certvault delete --op ID)");
    }
    CV_RETURN_IF_ERROR(CheckRv(rv, "C_DestroyObject"));
  }
  return OkStatus();
}

}  // namespace certvault::ca
