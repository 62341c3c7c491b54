// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/provider_key.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>

#include "src/base/status_macros.h"

#ifndef CV_PROVIDER_MODULE
#define CV_PROVIDER_MODULE "certvault.so"
#endif

namespace certvault::cli {
namespace {

// PercentEncode: RFC 3986 unreserved characters kept, everything else %XX.
void PercentEncode(std::span<const uint8_t> in, std::string* out) {
  static const char* kHex = "0123456789ABCDEF";
  for (uint8_t c : in) {
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      *out += static_cast<char>(c);
    } else {
      *out += '%';
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    }
  }
}

// Wiped: a std::string cleared with OPENSSL_cleanse when it goes.
struct Wiped {
  std::string text;
  ~Wiped() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

std::string DefaultProviderModule() { return CV_PROVIDER_MODULE; }

ProviderKey::~ProviderKey() {
  key_.reset();
  if (libctx_ != nullptr) OSSL_LIB_CTX_free(libctx_);
}

// LoadConfig: OpenSSL 3.0 passes provider parameters only through a
// configuration file: a private temporary one (0600), removed at once. It
// names the module and the vault, never a PIN.
Status ProviderKey::LoadConfig(const std::string& module, const std::optional<std::string>& vault_dir) {
  libctx_ = OSSL_LIB_CTX_new();
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
  int loaded = written ? OSSL_LIB_CTX_load_config(libctx_, path.c_str()) : 0;
  unlink(path.c_str());
  if (loaded != 1 || !OSSL_PROVIDER_available(libctx_, "certvault")) {
    ERR_clear_error();
    return FailedPreconditionError("cannot load certvault's OpenSSL provider (" + module + "; --provider-module)");
  }
  return OkStatus();
}

Result<std::unique_ptr<ProviderKey>> ProviderKey::Load(const std::string& module, const std::optional<std::string>& vault_dir,
                                                       Pkcs11Uri uri, const SecretBytes& pin) {
  std::unique_ptr<ProviderKey> out(new ProviderKey());
  CV_RETURN_IF_ERROR(out->LoadConfig(module, vault_dir));
  uri.type = CKO_PRIVATE_KEY;
  Wiped text{FormatUriWithScheme(uri, kVaultScheme) + "?pin-value="};
  PercentEncode(pin.Bytes(SecretAccess::Get()), &text.text);
  OSSL_STORE_CTX* store = OSSL_STORE_open_ex(text.text.c_str(), out->libctx_, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  while (store != nullptr && out->key_ == nullptr && !OSSL_STORE_eof(store)) {
    OSSL_STORE_INFO* info = OSSL_STORE_load(store);
    if (info == nullptr) break;
    if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY) out->key_.reset(OSSL_STORE_INFO_get1_PKEY(info));
    OSSL_STORE_INFO_free(info);
  }
  if (store != nullptr) OSSL_STORE_close(store);
  if (out->key_ == nullptr) {
    ERR_clear_error();
    return FailedPreconditionError("the key " + FormatUriWithScheme(uri, kVaultScheme) +
                                   " cannot be opened through certvault's provider");
  }
  return out;
}

}  // namespace certvault::cli
