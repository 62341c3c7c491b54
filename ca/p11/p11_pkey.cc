// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The token side of p11_pkey.h: URI, PIN file, finding the key and its
// public half, and handing it to the provider's key manager (p11_provider.cc).
#include "ca/p11/p11_pkey.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include <array>
#include <cstring>
#include <vector>

#include "ca/p11/p11_pkey_internal.h"
#include "ca/p11/public_key.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provider/pin_file.h"

namespace certvault::ca {
namespace {

using p11key::KeyType;
using p11key::TokenKey;

// PercentDecode: RFC 3986 §2.1 "%" HEXDIG HEXDIG, as RFC 7512 §2.3 uses it.
Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    Bytes b;
    if (i + 2 >= in.size() || !HexDecode(in.substr(i + 1, 2), &b) || b.size() != 1)
      return InvalidArgumentError("pkcs11 URI: bad % escape");
    out += static_cast<char>(b[0]);
    i += 2;
  }
  return out;
}

// SessionGuard: closes `session` unless it was handed on.
struct SessionGuard {
  P11Module* module;
  CK_SESSION_HANDLE session;
  ~SessionGuard() {
    if (session != CK_INVALID_HANDLE) module->CloseSession(session);
  }
};

CK_ATTRIBUTE Attr(CK_ATTRIBUTE_TYPE type, const void* value, size_t len) {
  return CK_ATTRIBUTE{type, const_cast<void*>(value), static_cast<CK_ULONG>(len)};
}

// FindOne: the one object of class `cls` matching the URI's label and id.
Result<CK_OBJECT_HANDLE> FindOne(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_CLASS cls,
                                 const P11Uri& uri) {
  std::vector<CK_ATTRIBUTE> tmpl = {Attr(CKA_CLASS, &cls, sizeof(cls))};
  if (!uri.object.empty()) tmpl.push_back(Attr(CKA_LABEL, uri.object.data(), uri.object.size()));
  if (!uri.id.empty()) tmpl.push_back(Attr(CKA_ID, uri.id.data(), uri.id.size()));
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsInit(session, tmpl.data(), tmpl.size()), "C_FindObjectsInit"));
  std::array<CK_OBJECT_HANDLE, 2> found{};
  CK_ULONG count = 0;
  Status status = CheckRv(fn->C_FindObjects(session, found.data(), found.size(), &count), "C_FindObjects");
  CV_RETURN_IF_ERROR(CheckRv(fn->C_FindObjectsFinal(session), "C_FindObjectsFinal"));
  CV_RETURN_IF_ERROR(status);
  std::string what = cls == CKO_PRIVATE_KEY ? "private key" : cls == CKO_PUBLIC_KEY ? "public key" : "certificate";
  if (count == 0) return NotFoundError("no " + what + " '" + uri.object + "' in token '" + uri.token + "'");
  if (count > 1) return FailedPreconditionError("more than one " + what + " matches in token '" + uri.token + "'");
  return found[0];
}

Result<ossl::UniquePtr<X509>> ReadCertificate(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, const P11Uri& uri) {
  CV_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE obj, FindOne(fn, session, CKO_CERTIFICATE, uri));
  CK_ATTRIBUTE attr = Attr(CKA_VALUE, nullptr, 0);
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetAttributeValue(session, obj, &attr, 1), "C_GetAttributeValue(CKA_VALUE)"));
  Bytes der(attr.ulValueLen);
  attr.pValue = der.data();
  CV_RETURN_IF_ERROR(CheckRv(fn->C_GetAttributeValue(session, obj, &attr, 1), "C_GetAttributeValue(CKA_VALUE)"));
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509 (token certificate)", Reason::kDataInvalid);
  return cert;
}

// PublicHalf: from the public key object, else from the certificate.
Result<ossl::UniquePtr<EVP_PKEY>> PublicHalf(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, const P11Uri& uri,
                                             X509* cert) {
  Result<CK_OBJECT_HANDLE> pub = FindOne(fn, session, CKO_PUBLIC_KEY, uri);
  if (pub.ok()) return ReadPublicKey(fn, session, *pub);
  if (cert == nullptr) {
    return FailedPreconditionError("token '" + uri.token + "' holds neither a public key nor a certificate for '" +
                                   uri.object + "'");
  }
  ossl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(cert));
  if (key == nullptr) return ossl::OpenSslError("X509_get_pubkey", Reason::kDataInvalid);
  return key;
}

Result<KeyType> TypeOf(EVP_PKEY* pub) {
  if (EVP_PKEY_is_a(pub, "EC")) return KeyType::kEc;
  if (EVP_PKEY_is_a(pub, "RSA")) return KeyType::kRsa;
  return UnimplementedError("only EC and RSA keys in another PKCS#11 module are supported");
}

// Adopt: the EVP_PKEY of `libctx` whose key manager (cv-p11) takes `key`.
Result<ossl::UniquePtr<EVP_PKEY>> Adopt(OSSL_LIB_CTX* libctx, std::shared_ptr<TokenKey> key) {
  // The key manager is fetched by OID: a short name would be looked up among
  // ENGINEs first (crypto::KeyType).
  const char* name = key->type() == KeyType::kEc ? "1.2.840.10045.2.1" : "1.2.840.113549.1.1.1";
  ossl::UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(libctx, name, p11key::kPropq));
  std::shared_ptr<TokenKey>* ref = &key;  // the import copies the shared_ptr
  std::array<OSSL_PARAM, 2> params = {OSSL_PARAM_construct_octet_string(p11key::kRefParam, &ref, sizeof(ref)),
                                      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.data()) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_fromdata (cv-p11)");
  }
  return ossl::UniquePtr<EVP_PKEY>(raw);
}

}  // namespace

Result<P11Uri> ParseP11Uri(std::string_view uri) {
  if (!uri.starts_with("pkcs11:"))
    return InvalidArgumentError("a pkcs11: URI (RFC 7512), e.g. pkcs11:token=T;object=K");
  if (uri.find('?') != std::string_view::npos) {
    return InvalidArgumentError("pkcs11 URI: no query part (give the PIN in a file)");
  }
  P11Uri out;
  std::string_view rest = uri.substr(7);
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) return InvalidArgumentError("pkcs11 URI: '" + std::string(part) + "' is not a=v");
    std::string_view name = part.substr(0, eq);
    CV_ASSIGN_OR_RETURN(std::string value, PercentDecode(part.substr(eq + 1)));
    if (name == "token") {
      out.token = value;
    } else if (name == "object") {
      out.object = value;
    } else if (name == "id") {
      out.id.assign(value.begin(), value.end());
    } else if (name != "type") {
      return InvalidArgumentError("pkcs11 URI: attribute '" + std::string(name) + "' is not supported");
    }
  }
  if (out.token.empty()) return InvalidArgumentError("pkcs11 URI: name the token (token=)");
  if (out.object.empty() && out.id.empty()) return InvalidArgumentError("pkcs11 URI: name the key (object= or id=)");
  return out;
}

Result<SecretBytes> ReadPinFile(const std::string& path) { return provider::ReadPinFile(path); }

Result<P11Key> OpenP11Key(OSSL_LIB_CTX* libctx, const std::string& module_path, const P11Uri& uri,
                          const SecretBytes& pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<P11Module> module, P11Module::Load(module_path));
  CV_ASSIGN_OR_RETURN(CK_SLOT_ID slot, module->FindTokenSlot(uri.token));
  CV_ASSIGN_OR_RETURN(CK_SESSION_HANDLE session, module->OpenSession(slot));
  SessionGuard guard{module.get(), session};  // until a TokenKey takes the session
  CV_RETURN_IF_ERROR(module->Login(session, pin));
  CK_FUNCTION_LIST* fn = module->fn();
  CV_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE priv, FindOne(fn, session, CKO_PRIVATE_KEY, uri));
  P11Key out;
  Result<ossl::UniquePtr<X509>> cert = ReadCertificate(fn, session, uri);
  if (cert.ok()) out.cert = std::move(*cert);
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<EVP_PKEY> pub, PublicHalf(fn, session, uri, out.cert.get()));
  CV_ASSIGN_OR_RETURN(KeyType type, TypeOf(pub.get()));
  CV_ASSIGN_OR_RETURN(bool always_authenticate, module->AlwaysAuthenticate(session, priv));
  guard.session = CK_INVALID_HANDLE;
  auto key = std::make_shared<TokenKey>(module, slot, session, priv, type, std::move(pub),
                                        always_authenticate ? pin.Clone() : SecretBytes());
  CV_ASSIGN_OR_RETURN(out.key, Adopt(libctx, std::move(key)));
  return out;
}

namespace p11key {

Status TokenKey::ContextLogin() {
  std::span<const uint8_t> pin = context_pin_.Bytes(SecretAccess::Get());
  Status status = CheckRv(
      module_->fn()->C_Login(session_, CKU_CONTEXT_SPECIFIC, const_cast<CK_UTF8CHAR_PTR>(pin.data()), pin.size()),
      "C_Login(CKU_CONTEXT_SPECIFIC)");
  if (status.ok()) return status;
  Result<CK_SESSION_HANDLE> fresh = module_->OpenSession(slot_);
  if (fresh.ok()) {
    module_->CloseSession(session_);
    session_ = *fresh;
  }
  return status;
}

Status TokenKey::Sign(const CK_MECHANISM& mech, std::span<const uint8_t> input, Bytes& out) {
  std::lock_guard<std::mutex> lock(mu_);
  CK_FUNCTION_LIST* fn = module_->fn();
  CK_MECHANISM m = mech;
  CV_RETURN_IF_ERROR(CheckRv(fn->C_SignInit(session_, &m, key_), "C_SignInit"));
  if (!context_pin_.empty()) {
    CV_RETURN_IF_ERROR(ContextLogin());
  }
  out.resize(1024);
  CK_ULONG len = out.size();
  // PKCS#11 v3.0 §5.2: C_Sign "always terminates the active signing
  // operation unless it returns CKR_BUFFER_TOO_SMALL" or is a length query;
  // 1024 bytes hold an RSA-8192 or any ECDSA signature.
  CV_RETURN_IF_ERROR(
      CheckRv(fn->C_Sign(session_, const_cast<uint8_t*>(input.data()), input.size(), out.data(), &len), "C_Sign"));
  out.resize(len);
  return OkStatus();
}

}  // namespace p11key
}  // namespace certvault::ca
