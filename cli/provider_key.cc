// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/provider_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "src/base/status_macros.h"

#ifndef CV_PROVIDER_MODULE
#define CV_PROVIDER_MODULE "certvault.so"
#endif

namespace certvault::cli {
namespace {

struct StoreCtxClose {
  void operator()(OSSL_STORE_CTX* p) const { OSSL_STORE_close(p); }
};
struct StoreInfoFree {
  void operator()(OSSL_STORE_INFO* p) const { OSSL_STORE_INFO_free(p); }
};

// StoreUri: `uri` + "?pin-value=" + the percent-encoded PIN, NUL-terminated,
// in wiped memory.
SecretBytes StoreUri(const Pkcs11Uri& uri, const SecretBytes& pin) {
  std::string prefix = FormatUriWithScheme(uri, kVaultScheme) + "?pin-value=";
  SecretBytes out(prefix.size() + 3 * pin.size() + 1);
  std::span<uint8_t> dst = out.MutableBytes(SecretAccess::Get());
  size_t n = 0;
  for (char c : prefix) dst[n++] = static_cast<uint8_t>(c);
  static const char* kHex = "0123456789ABCDEF";
  for (uint8_t c : pin.Bytes(SecretAccess::Get())) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      dst[n++] = c;
    } else {
      dst[n++] = '%';
      dst[n++] = static_cast<uint8_t>(kHex[c >> 4]);
      dst[n++] = static_cast<uint8_t>(kHex[c & 15]);
    }
  }
  for (; n < dst.size(); ++n) dst[n] = 0;  // NUL terminator (and padding)
  return out;
}

}  // namespace

std::string DefaultProviderModule() { return CV_PROVIDER_MODULE; }

ProviderKey::~ProviderKey() = default;

// LoadConfig: OpenSSL 3.0 passes provider parameters only through a
// configuration file: a private temporary one (0600), removed at once. It
// names the module and the vault, never a PIN.
Status ProviderKey::LoadConfig(const std::string& module, const std::optional<std::string>& vault_dir) {
  libctx_.reset(OSSL_LIB_CTX_new());
  if (libctx_ == nullptr) return InternalError("OSSL_LIB_CTX_new failed");
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/certvault-provider.cnf.XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) return FailedPreconditionError("cannot write a temporary file in " + path.substr(0, path.rfind('/')));
  std::string text =
      "openssl_conf = cv_init\n[cv_init]\nproviders = cv_providers\n[cv_providers]\ndefault = cv_default\n"
      "certvault = cv_certvault\n[cv_default]\nactivate = 1\n[cv_certvault]\nactivate = 1\nmodule = " + module + "\n";
  if (vault_dir.has_value()) text += "vault = " + *vault_dir + "\n";
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  int loaded = written ? OSSL_LIB_CTX_load_config(libctx_.get(), path.c_str()) : 0;
  unlink(path.c_str());
  if (loaded != 1 || !OSSL_PROVIDER_available(libctx_.get(), "certvault")) {
    ERR_clear_error();
    return FailedPreconditionError("cannot load certvault's OpenSSL provider (" + module + "; --provider-module)");
  }
  return OkStatus();
}

Result<std::unique_ptr<ProviderKey>> ProviderKey::Load(const std::string& module, const std::optional<std::string>& vault_dir,
                                                       Pkcs11Uri uri, const SecretBytes& pin) {
  std::unique_ptr<ProviderKey> out(new ProviderKey());
  CV_RETURN_IF_ERROR(out->LoadConfig(module, vault_dir));
  CV_ASSIGN_OR_RETURN(out->key_, out->LoadAnother(std::move(uri), pin));
  return out;
}

Result<ossl::UniquePtr<EVP_PKEY>> ProviderKey::LoadAnother(Pkcs11Uri uri, const SecretBytes& pin) const {
  uri.type = CKO_PRIVATE_KEY;
  SecretBytes text = StoreUri(uri, pin);
  const char* text_c = reinterpret_cast<const char*>(text.Bytes(SecretAccess::Get()).data());
  std::unique_ptr<OSSL_STORE_CTX, StoreCtxClose> store(
      OSSL_STORE_open_ex(text_c, libctx_.get(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  ossl::UniquePtr<EVP_PKEY> key;
  while (store != nullptr && key == nullptr && !OSSL_STORE_eof(store.get())) {
    std::unique_ptr<OSSL_STORE_INFO, StoreInfoFree> info(OSSL_STORE_load(store.get()));
    if (info == nullptr) break;
    if (OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) key.reset(OSSL_STORE_INFO_get1_PKEY(info.get()));
  }
  if (key == nullptr) {
    ERR_clear_error();
    return FailedPreconditionError("the key " + FormatUriWithScheme(uri, kVaultScheme) +
                                   " cannot be opened through certvault's provider");
  }
  return key;
}

}  // namespace certvault::cli
