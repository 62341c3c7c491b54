// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// ca-certs: the CA certificates of an EST server (RFC 7030 §4.1 /cacerts,
// RFC 8951 §3.2 for the base64 body). The TLS server must authenticate with
// the pinned anchor (--trust FILE, or --trust-fingerprint SHA256 for the
// §4.1.1 bootstrap), and every certificate of the answer must chain to that
// anchor through the answer; otherwise nothing is written. Output: PEM to
// --out (atomically) or standard output; --json lists subjects and SHA-256
// fingerprints.
#include <openssl/pem.h>

#include "cli/command_context.h"
#include "cli/est_client.h"
#include "cli/output.h"
#include "src/base/status_macros.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/ossl_ptr.h"

namespace certvault::cli {
namespace {

// PemAndSubject: the certificate as PEM and its subject ("/CN=..." form).
Status PemAndSubject(const Bytes& der, std::string& pem, std::string& subject) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return ossl::OpenSslError("d2i_X509");
  ossl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return ossl::OpenSslError("PEM_write_bio_X509");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);  // NOLINT(runtime/int)
  pem.append(data, static_cast<size_t>(n));
  char* name = X509_NAME_oneline(X509_get_subject_name(cert.get()), nullptr, 0);
  if (name == nullptr) return ossl::OpenSslError("X509_NAME_oneline");
  subject = name;
  OPENSSL_free(name);
  return OkStatus();
}

}  // namespace

Status CmdCaCerts(Context& ctx) {
  const Args& args = *ctx.args;
  std::optional<std::string> server = args.Get("server");
  if (!server.has_value() || server->empty()) return InvalidArgumentError("ca-certs needs --server");
  CV_ASSIGN_OR_RETURN(EstUrl url, ParseEstUrl(*server));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> anchors, EstTrustAnchors(args, url));
  EstTls tls;
  tls.anchors = anchors;
  CV_ASSIGN_OR_RETURN(HttpAnswer answer, EstRequest(url, tls, "cacerts", "", ""));
  if (answer.status != 200) return Status(Reason::kDeviceError, "cacerts: HTTP " + std::to_string(answer.status));
  CV_ASSIGN_OR_RETURN(std::vector<Bytes> certs, DecodeCertsOnly(answer.body));
  std::string pem;
  std::vector<std::string> listed;
  for (const Bytes& der : certs) {
    CV_RETURN_IF_ERROR(VerifyChain(der, certs, anchors));
    std::string subject;
    CV_RETURN_IF_ERROR(PemAndSubject(der, pem, subject));
    CV_ASSIGN_OR_RETURN(std::string sha256, Sha256Hex(der));
    listed.push_back(JsonObject().Add("subject", subject).Add("sha256", sha256).Build());
  }
  std::optional<std::string> out = args.Get("out");
  if (out.has_value()) {
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(pem.data()), pem.size());
    CV_RETURN_IF_ERROR(WriteFileAtomic(*out, bytes));
  }
  if (ctx.json) {
    JsonObject json;
    json.AddRaw("certificates", JsonArray(listed));
    if (out.has_value()) json.Add("out", *out);
    *ctx.out << json.Build() << "\n";
  } else if (!out.has_value()) {
    *ctx.out << pem;
  } else {
    *ctx.out << certs.size() << " CA certificate(s) written to " << *out << "\n";
  }
  return OkStatus();
}

}  // namespace certvault::cli
