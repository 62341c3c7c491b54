// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/cmp_client.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <openssl/cmp.h>
#include <openssl/err.h>

#include <array>
#include <charconv>
#include <memory>

#include "cli/est_client.h"

#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"
#include "src/provision/provision.h"

namespace certvault::cli {
namespace {

struct CmpCtxFree {
  void operator()(OSSL_CMP_CTX* c) const noexcept { OSSL_CMP_CTX_free(c); }
};

int QuietLog(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

// RFC 5280 §5.3.1 CRLReason names; value 7 is not used.
constexpr std::array<std::string_view, 11> kReasons = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

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
  CmpUrl out;
  if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else {
    return InvalidArgumentError("--server: give the CMP server's http:// or https:// URL");
  }
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

namespace {

// TlsLink: what the transfer callback needs to put TLS under OpenSSL's HTTP
// client, and why the last handshake failed (the callback can only return
// NULL).
struct TlsLink {
  std::string host;
  EstTls tls;
  std::string error;
};

// CmpSession: a CMP context and the TLS link its callback points to
// (declared first: it outlives the context).
struct CmpSession {
  std::unique_ptr<TlsLink> link;
  std::unique_ptr<OSSL_CMP_CTX, CmpCtxFree> ctx;
};

// TlsTransfer: OSSL_HTTP_bio_cb_t. On connect (with TLS: `detail`), an
// SSL BIO over OpenSSL's connected socket BIO, as the transfer callback of
// `openssl cmp -tls_used` does; on disconnect the whole chain goes back to
// OpenSSL's HTTP client, which frees it (BIO_free_all; the SSL BIO owns its
// SSL). A failed handshake leaves the certificate check's reason in the link.
BIO* TlsTransfer(BIO* bio, void* arg, int connect, int detail) {
  auto* link = static_cast<TlsLink*>(arg);
  if (connect == 0) {
    SSL* ssl = nullptr;
    if (detail == 0 && BIO_get_ssl(bio, &ssl) > 0 && ssl != nullptr) {
      long verify = SSL_get_verify_result(ssl);  // NOLINT(runtime/int)
      if (verify != X509_V_OK) link->error = std::string("TLS: ") + X509_verify_cert_error_string(verify);
    }
    return bio;
  }
  if (detail == 0) return bio;
  Result<TlsSslPtr> ssl = NewTlsClient(link->host, link->tls);
  if (!ssl.ok()) {
    link->error = std::string(ssl.status().message());
    return nullptr;
  }
  ossl::UniquePtr<BIO> sbio(BIO_new(BIO_f_ssl()));
  if (sbio == nullptr) return nullptr;
  SSL_set_connect_state(ssl->get());
  BIO_set_ssl(sbio.get(), ssl->release(), BIO_CLOSE);  // owned by `sbio`
  return BIO_push(sbio.release(), bio);                 // the chain is owned by OpenSSL's HTTP client
}

// NewContext: an OSSL_CMP_CTX for `url` in `libctx`, verifying signed
// answers against `anchors`; over https:// the TLS server too, and the
// client authenticates with `tls_cert`/`tls_key` if given (in `libctx`).
Result<CmpSession> NewContext(const CmpUrl& url, const std::vector<Bytes>& anchors, OSSL_LIB_CTX* libctx,
                              X509* tls_cert = nullptr, EVP_PKEY* tls_key = nullptr) {
  CmpSession s;
  s.ctx.reset(OSSL_CMP_CTX_new(libctx, "?provider=default"));
  if (s.ctx == nullptr) return ossl::OpenSslError("OSSL_CMP_CTX_new");
  CV_ASSIGN_OR_RETURN(X509_STORE * store, AnchorStore(anchors));
  OSSL_CMP_CTX* c = s.ctx.get();
  if (OSSL_CMP_CTX_set0_trustedStore(c, store) != 1) {  // owned by `ctx` from here on
    X509_STORE_free(store);
    return ossl::OpenSslError("OSSL_CMP_CTX_set0_trustedStore");
  }
  if (OSSL_CMP_CTX_set_log_cb(c, QuietLog) != 1 || OSSL_CMP_CTX_set1_server(c, url.host.c_str()) != 1 ||
      OSSL_CMP_CTX_set_serverPort(c, url.port) != 1 || OSSL_CMP_CTX_set1_serverPath(c, url.path.c_str()) != 1) {
    return ossl::OpenSslError("OSSL_CMP_CTX setup");
  }
  if (!url.tls) return s;
  s.link = std::make_unique<TlsLink>();
  s.link->host = url.host;
  s.link->tls = EstTls{anchors, true, tls_key, tls_cert, libctx};
  // OpenSSL 3.0 (cmp_http.c) uses TLS exactly when the callback argument is set.
  if (OSSL_CMP_CTX_set_http_cb(c, TlsTransfer) != 1 || OSSL_CMP_CTX_set_http_cb_arg(c, s.link.get()) != 1) {
    return ossl::OpenSslError("OSSL_CMP_CTX_set_http_cb");
  }
  return s;
}

// Failure: the error of a CMP exchange: the server's PKIStatusInfo when it
// refused, the TLS reason when the handshake failed.
Status Failure(const CmpSession& s, const std::string& what) {
  OSSL_CMP_CTX* c = s.ctx.get();
  char buf[512] = "no answer";
  if (OSSL_CMP_CTX_get_status(c) >= 0) OSSL_CMP_CTX_snprint_PKIStatus(c, buf, sizeof(buf));
  Status err = ossl::OpenSslError(what);
  if (OSSL_CMP_CTX_get_status(c) == OSSL_CMP_PKISTATUS_rejection) {
    return PermissionDeniedError("the CA refused the " + what + ": " + buf);
  }
  if (s.link != nullptr && !s.link->error.empty()) {
    return Status(StatusCode::kPermissionDenied, Reason::kDeviceError,
                  what + ": " + s.link->error + " (is --trust the server's CA?)");
  }
  return UnavailableError(std::string(err.message()) + " (" + buf + ")");
}

void AppendCaCerts(STACK_OF(X509) * certs, std::vector<Bytes>& out) {
  for (int i = 0; i < sk_X509_num(certs); ++i) {
    X509* c = sk_X509_value(certs, i);
    if (X509_check_ca(c) == 0) continue;
    unsigned char* buf = nullptr;
    int len = i2d_X509(c, &buf);
    if (len > 0) out.emplace_back(buf, buf + len);
    OPENSSL_free(buf);
  }
  sk_X509_pop_free(certs, X509_free);
}

// AddAttestation: the CSR's cvKeyAttestationChain attribute (csr --attest)
// as the non-critical CertTemplate extension of the same OID
// (docs/formats/update-package.md, "Key attestation in a CRMF request"): the
// POPO signature covers the template (RFC 4211 §4.1) as the CSR signature
// covers the attribute. Nothing is added when the CSR has no attestation.
Status AddAttestation(X509_REQ* csr, X509_EXTENSIONS** exts) {
  CV_ASSIGN_OR_RETURN(const provision::Nids* nids, provision::GetNids());
  ASN1_OBJECT* oid = OBJ_nid2obj(nids->attr_attestation_chain);
  int at = X509_REQ_get_attr_by_OBJ(csr, oid, -1);
  if (at < 0) return OkStatus();
  ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(X509_REQ_get_attr(csr, at), 0);
  unsigned char* der = nullptr;
  int len = value != nullptr ? i2d_ASN1_TYPE(value, &der) : -1;
  if (len <= 0) return ossl::OpenSslError("i2d_ASN1_TYPE");
  ossl::UniquePtr<ASN1_OCTET_STRING> octets(ASN1_OCTET_STRING_new());
  bool set = octets != nullptr && ASN1_OCTET_STRING_set(octets.get(), der, len) == 1;
  OPENSSL_free(der);
  if (!set) return ossl::OpenSslError("ASN1_OCTET_STRING_set");
  ossl::UniquePtr<X509_EXTENSION> ext(X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, octets.get()));
  if (ext == nullptr || X509v3_add_ext(exts, ext.get(), -1) == nullptr) return ossl::OpenSslError("X509v3_add_ext");
  return OkStatus();
}

Status SetRequest(OSSL_CMP_CTX* c, const CmpRequest& req, X509_REQ* csr) {
  if (req.auth_cert != nullptr && req.new_key != nullptr) {
    // RFC 9483 §4.1.3: "the certificate to be updated" is the protection
    // certificate; OpenSSL takes subject and subjectAltNames from oldCert.
    if (OSSL_CMP_CTX_set1_cert(c, req.auth_cert) != 1 || OSSL_CMP_CTX_set1_pkey(c, req.auth_key) != 1 ||
        OSSL_CMP_CTX_set1_oldCert(c, req.auth_cert) != 1 || EVP_PKEY_up_ref(req.new_key) != 1 ||
        OSSL_CMP_CTX_set0_newPkey(c, 1, req.new_key) != 1) {  // the reference taken above is owned by `c`
      return ossl::OpenSslError("OSSL_CMP_CTX kur");
    }
    return OkStatus();
  }
  if (req.auth_cert != nullptr) {
    if (OSSL_CMP_CTX_set1_cert(c, req.auth_cert) != 1 || OSSL_CMP_CTX_set1_pkey(c, req.auth_key) != 1 ||
        OSSL_CMP_CTX_set1_p10CSR(c, csr) != 1) {
      return ossl::OpenSslError("OSSL_CMP_CTX p10cr");
    }
    return OkStatus();
  }
  std::span<const uint8_t> secret = req.code_secret->Bytes(SecretAccess::Get());
  X509_EXTENSIONS* exts = X509_REQ_get_extensions(csr);
  if (Status st = AddAttestation(csr, &exts); !st.ok()) {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return st;
  }
  if (EVP_PKEY_up_ref(req.new_key) != 1 ||
      OSSL_CMP_CTX_set0_newPkey(c, 1, req.new_key) != 1 ||  // the reference taken above is owned by `c`
      OSSL_CMP_CTX_set1_subjectName(c, X509_REQ_get_subject_name(csr)) != 1 ||
      (exts != nullptr && OSSL_CMP_CTX_set0_reqExtensions(c, exts) != 1) ||  // owned by `c`
      OSSL_CMP_CTX_set1_referenceValue(c, reinterpret_cast<const unsigned char*>(req.code_id.data()),
                                       static_cast<int>(req.code_id.size())) != 1 ||
      OSSL_CMP_CTX_set1_secretValue(c, secret.data(), static_cast<int>(secret.size())) != 1) {
    return ossl::OpenSslError("OSSL_CMP_CTX ir");
  }
  return OkStatus();
}

}  // namespace

Result<CmpIssued> CmpEnroll(const CmpUrl& url, const std::vector<Bytes>& anchors, const CmpRequest& req) {
  ossl::UniquePtr<X509_REQ> csr;
  if (req.csr != nullptr) {
    const uint8_t* p = req.csr->data();
    csr.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(req.csr->size())));  // NOLINT(runtime/int)
    if (csr == nullptr) return ossl::OpenSslError("d2i_X509_REQ");
  }
  const bool kur = req.auth_cert != nullptr && req.new_key != nullptr;
  if (csr == nullptr && !kur) return InvalidArgumentError("CmpEnroll: ir and p10cr need the CSR");
  CV_ASSIGN_OR_RETURN(CmpSession s, NewContext(url, anchors, req.libctx, req.auth_cert, req.auth_key));
  OSSL_CMP_CTX* c = s.ctx.get();
  CV_RETURN_IF_ERROR(SetRequest(c, req, csr.get()));
  // RFC 9483 §3.1: implicitConfirm, the server grants it.
  if (OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_IMPLICIT_CONFIRM, 1) != 1) return ossl::OpenSslError("implicitConfirm");
  X509* cert = kur                         ? OSSL_CMP_exec_KUR_ses(c)
               : req.auth_cert != nullptr ? OSSL_CMP_exec_P10CR_ses(c)
                                          : OSSL_CMP_exec_IR_ses(c);
  if (cert == nullptr) return Failure(s, kur ? "key update" : "enrollment");
  CmpIssued out;
  unsigned char* buf = nullptr;
  int len = i2d_X509(cert, &buf);  // `cert` is owned by `c`
  if (len <= 0) return ossl::OpenSslError("i2d_X509");
  out.leaf.assign(buf, buf + len);
  OPENSSL_free(buf);
  AppendCaCerts(OSSL_CMP_CTX_get1_extraCertsIn(c), out.ca_certs);
  AppendCaCerts(OSSL_CMP_CTX_get1_caPubs(c), out.ca_certs);
  return out;
}

Status CmpRevoke(const CmpUrl& url, const std::vector<Bytes>& anchors, X509* cert, EVP_PKEY* key, OSSL_LIB_CTX* libctx,
                 int reason) {
  CV_ASSIGN_OR_RETURN(CmpSession s, NewContext(url, anchors, libctx, cert, key));
  OSSL_CMP_CTX* c = s.ctx.get();
  if (OSSL_CMP_CTX_set1_cert(c, cert) != 1 || OSSL_CMP_CTX_set1_pkey(c, key) != 1 ||
      OSSL_CMP_CTX_set1_oldCert(c, cert) != 1 ||
      OSSL_CMP_CTX_set_option(c, OSSL_CMP_OPT_REVOCATION_REASON, reason) != 1) {
    return ossl::OpenSslError("OSSL_CMP_CTX setup");
  }
  if (OSSL_CMP_exec_RR_ses(c) == 1) return OkStatus();
  return Failure(s, "revocation");
}

}  // namespace certvault::cli
