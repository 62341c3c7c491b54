// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/cmp_client.h"

#include <openssl/cmp.h>
#include <openssl/err.h>

#include <array>
#include <charconv>

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::cli {
namespace {

struct CmpCtxFree {
  void operator()(OSSL_CMP_CTX* c) const noexcept { OSSL_CMP_CTX_free(c); }
};

int QuietLog(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

// RFC 5280 §5.3.1 CRLReason names; value 7 is not used.
constexpr std::array<std::string_view, 11> kReasons = {
    "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation",
    "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"};

Result<X509_STORE*> AnchorStore(const std::vector<Bytes>& anchors) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return ossl::OpenSslError("X509_STORE_new");
  for (const Bytes& der : anchors) {
    const uint8_t* p = der.data();
    ossl::UniquePtr<X509> c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
    if (c == nullptr || X509_STORE_add_cert(store, c.get()) != 1) {
      X509_STORE_free(store);
      return ossl::OpenSslError("trust anchor");
    }
  }
  return store;
}

}  // namespace

Result<CmpUrl> ParseCmpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return InvalidArgumentError("--server: give the CMP server's http:// URL");
  url.remove_prefix(kScheme.size());
  CmpUrl out;
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos && slash + 1 < url.size()) out.path = std::string(url.substr(slash + 1));
  size_t colon = authority.rfind(':');
  out.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) {
    std::string_view port = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || end != port.data() + port.size() || out.port <= 0 || out.port > 65535) {
      return InvalidArgumentError("--server: bad port");
    }
  }
  if (out.host.empty()) return InvalidArgumentError("--server: no host");
  return out;
}

Result<int> ParseRevocationReason(std::string_view text) {
  for (size_t i = 0; i < kReasons.size(); ++i) {
    if (!kReasons[i].empty() && (text == kReasons[i] || text == std::to_string(i))) return static_cast<int>(i);
  }
  return InvalidArgumentError("--reason: a CRLReason name (keyCompromise, superseded, cessationOfOperation, ...)");
}

Status CmpRevoke(const CmpUrl& url, const std::vector<Bytes>& anchors, X509* cert, EVP_PKEY* key, OSSL_LIB_CTX* libctx,
                 int reason) {
  std::unique_ptr<OSSL_CMP_CTX, CmpCtxFree> ctx(OSSL_CMP_CTX_new(libctx, "?provider=default"));
  if (ctx == nullptr) return ossl::OpenSslError("OSSL_CMP_CTX_new");
  CV_ASSIGN_OR_RETURN(X509_STORE * store, AnchorStore(anchors));
  OSSL_CMP_CTX* c = ctx.get();
  if (OSSL_CMP_CTX_set0_trustedStore(c, store) != 1) {  // owned by `ctx` from here on
    X509_STORE_free(store);
    return ossl::OpenSslError("OSSL_CMP_CTX_set0_trustedStore");
  }
  if (OSSL_CMP_CTX_set_log_cb(c, QuietLog) != 1 || OSSL_CMP_CTX_set1_server(c, url.host.c_str()) != 1 ||
      OSSL_CMP_CTX_set_serverPort(c, url.port) != 1 || OSSL_CMP_CTX_set1_serverPath(c, url.path.c_str()) != 1 ||
      OSSL_CMP_CTX_set1_cert(c, cert) != 1 || OSSL_CMP_CTX_set1_pkey(c, key) != 1 ||
      OSSL_CMP_CTX_set1_oldCert(c, cert) != 1 || OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_REVOCATION_REASON, reason) != 1) {
    return ossl::OpenSslError("OSSL_CMP_CTX setup");
  }
  if (OSSL_CMP_exec_RR_ses(c) == 1) return OkStatus();
  char buf[512] = "no answer";
  if (OSSL_CMP_CTX_get_status(c) >= 0) OSSL_CMP_CTX_snprint_PKIStatus(c, buf, sizeof(buf));
  Status err = ossl::OpenSslError("revocation");
  if (OSSL_CMP_CTX_get_status(c) == OSSL_CMP_PKISTATUS_rejection) {
    return PermissionDeniedError(std::string("the CA refused the revocation: ") + buf);
  }
  return UnavailableError(std::string(err.message()) + " (" + buf + ")");
}

}  // namespace certvault::cli
