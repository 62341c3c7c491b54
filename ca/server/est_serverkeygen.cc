// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/server/est_serverkeygen.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/store.h>

#include <ctime>
#include <fstream>

#include "ca/est/est_codec.h"
#include "ca/issuance/csr.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::ossl {
CV_OSSL_DELETER(OSSL_STORE_CTX, OSSL_STORE_close)
CV_OSSL_DELETER(OSSL_STORE_INFO, OSSL_STORE_INFO_free)
}  // namespace certvault::ossl

namespace certvault::ca {
namespace {

constexpr int64_t kPackageHours = 72;  // as `certvault-ca provision`

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

Result<ossl::UniquePtr<X509>> ReadPemCert(const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  ossl::UniquePtr<X509> x(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (x == nullptr) return ossl::OpenSslError("read " + path, Reason::kDataInvalid);
  return x;
}

// LoadAuthorityKey: the first private key at an OSSL_STORE URI or path.
Result<ossl::UniquePtr<EVP_PKEY>> LoadAuthorityKey(const std::string& uri) {
  ossl::UniquePtr<OSSL_STORE_CTX> store(
      OSSL_STORE_open_ex(uri.c_str(), crypto::LibCtx(), crypto::kPropq, nullptr, nullptr, nullptr, nullptr, nullptr));
  if (store == nullptr) return ossl::OpenSslError("OSSL_STORE_open", Reason::kKeyHandleInvalid);
  while (!OSSL_STORE_eof(store.get())) {
    ossl::UniquePtr<OSSL_STORE_INFO> info(OSSL_STORE_load(store.get()));
    if (info != nullptr && OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) {
      return ossl::UniquePtr<EVP_PKEY>(OSSL_STORE_INFO_get1_PKEY(info.get()));
    }
  }
  return Status(Reason::kKeyHandleInvalid, "no private key for the provisioning authority");
}

struct Authority {
  ossl::UniquePtr<X509> cert;
  ossl::UniquePtr<EVP_PKEY> key;
  ossl::UniquePtr<X509_STORE> identity_roots;  // null: any vault identity
};

Result<Authority> LoadAuthority(const std::string& dir) {
  const std::string base = dir + "/provisioning/";
  if (!Exists(base + "authority.pem")) {
    return UnimplementedError("serverkeygen is not configured (no provisioning/authority.pem)");
  }
  Authority a;
  CV_ASSIGN_OR_RETURN(a.cert, ReadPemCert(base + "authority.pem"));
  std::string uri = base + "authority.key";
  if (std::ifstream f(base + "authority.uri"); f.good()) std::getline(f, uri);
  CV_ASSIGN_OR_RETURN(a.key, LoadAuthorityKey(uri));
  if (Exists(base + "identity-roots.pem")) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> root, ReadPemCert(base + "identity-roots.pem"));
    a.identity_roots.reset(X509_STORE_new());
    if (a.identity_roots == nullptr || X509_STORE_add_cert(a.identity_roots.get(), root.get()) != 1) {
      return ossl::OpenSslError("X509_STORE_add_cert");
    }
  }
  return a;
}

// UpdateRequestOf: the value of CSR attribute cvUpdateRequest (arc.1.1): the
// vault's signed UpdateRequest (a CMS ContentInfo, DER).
Result<Bytes> UpdateRequestOf(X509_REQ* req) {
  CV_ASSIGN_OR_RETURN(const provision::Nids* nids, provision::GetNids());
  int at = X509_REQ_get_attr_by_NID(req, nids->ct_request, -1);
  if (at < 0) return InvalidArgumentError("serverkeygen needs the vault's update request (CSR attribute cvUpdateRequest)");
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(req, at);
  ASN1_TYPE* value = X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
  unsigned char* der = nullptr;
  int len = value != nullptr && value->type == V_ASN1_SEQUENCE ? i2d_ASN1_TYPE(value, &der) : -1;
  if (len <= 0) {
    ossl::ClearErrors();
    return InvalidArgumentError("the cvUpdateRequest attribute is malformed");
  }
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// DeviceRequest: the certificate request for a fresh P-256 device key with
// the CSR's subject and extensions (the CSR's own key is not certified).
Result<std::shared_ptr<const ParsedCsr>> DeviceRequest(X509_REQ* req, EVP_PKEY* device) {
  CV_ASSIGN_OR_RETURN(Bytes spki, (ossl::ToDer<EVP_PKEY, i2d_PUBKEY>(device, "i2d_PUBKEY")));
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  Result<ParsedCsr> parsed = ParseVerifiedRequest(spki, X509_REQ_get_subject_name(req), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  CV_RETURN_IF_ERROR(parsed.status());
  return std::make_shared<const ParsedCsr>(std::move(*parsed));
}

Result<SecretBytes> Pkcs8(EVP_PKEY* key) {
  ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(key));
  int len = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr) : -1;
  if (len <= 0) return ossl::OpenSslError("EVP_PKEY2PKCS8");
  SecretBytes out(static_cast<size_t>(len));
  uint8_t* w = out.MutableBytes(SecretAccess::Get()).data();
  if (i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &w) != len) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
  return out;
}

// Multipart: RFC 7030 §4.4.2: the key part (the encrypted key: "application/
// pkcs7-mime; smime-type=server-generated-key") then the certificate
// (certs-only), each base64.
Result<KeygenAnswer> Multipart(const Bytes& package, const Bytes& leaf) {
  uint8_t rnd[12];
  if (RAND_bytes_ex(crypto::LibCtx(), rnd, sizeof rnd, 0) != 1) return ossl::OpenSslError("RAND_bytes_ex");
  const std::string boundary = "certvault-" + HexEncode(rnd);
  KeygenAnswer a;
  a.content_type = "multipart/mixed; boundary=" + boundary;
  a.body = "--" + boundary +
           "\r\nContent-Type: application/pkcs7-mime; smime-type=server-generated-key\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" +
           est::EncodeBase64(package) + "\r\n--" + boundary +
           "\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n" +
           est::EncodeBase64(est::EncodeCertsOnlyDer(std::span<const Bytes>(&leaf, 1))) + "\r\n--" + boundary +
           "--\r\n";
  return a;
}

// BuildDelivery: the package of `device` and its certificate for the vault
// of `vr`, and its delivery record; the clear key is dropped when packed.
Result<Bytes> BuildDelivery(const KeygenDeps& deps, const Authority& authority, const provision::VerifiedRequest& vr,
                            ossl::UniquePtr<EVP_PKEY> device, const IssueOutcome& issued, Delivery* d) {
  const provision::UpdateRequest& r = vr.request;
  provision::PackageContent content;
  content.label = r.label.empty() ? "provisioned" : r.label;
  CV_ASSIGN_OR_RETURN(Bytes ca_der, (ossl::ToDer<X509, i2d_X509>(deps.issuing, "i2d_X509")));
  content.certificates = {issued.der, ca_der};
  CV_ASSIGN_OR_RETURN(SecretBytes p8, Pkcs8(device.get()));
  content.private_keys.push_back(std::move(p8));
  device.reset();  // the clear key is no longer needed (freed with clearing)
  d->ca = deps.ca_name;
  d->target_serial = r.token_serial;
  d->counter = r.counter + 1;
  d->expires_at = static_cast<int64_t>(time(nullptr)) + kPackageHours * 3600;
  d->cert_serial = issued.serial;
  provision::PackageHeader header{r.token_serial, d->counter, r.nonce, d->expires_at};
  CV_ASSIGN_OR_RETURN(Bytes package, provision::BuildUpdatePackage(header, content, r.transport_cert,
                                                                   {authority.key.get(), authority.cert.get(), nullptr}));
  CV_ASSIGN_OR_RETURN(d->key_id, provision::DeliveredKeyIdHex(issued.der));
  CV_ASSIGN_OR_RETURN(Bytes hash, provision::Sha256(package));
  d->package_hash = HexEncode(hash);
  CV_ASSIGN_OR_RETURN(d->identity_key, provision::IdentityKeyHashHex(vr.identity_cert.get()));
  return package;
}

}  // namespace

bool ServerKeygenConfigured(const CaConfig& ca) { return Exists(ca.dir + "/provisioning/authority.pem"); }

Result<KeygenAnswer> ServerKeygen(const KeygenDeps& deps, std::span<const uint8_t> csr, const std::string& profile,
                                  IssueItem item) {
  CV_ASSIGN_OR_RETURN(Authority authority, LoadAuthority(deps.ca->dir));
  CV_RETURN_IF_ERROR(ParseCsr(csr, deps.ca->max_csr_bytes).status());  // well-formed and signed
  const unsigned char* p = csr.data();
  ossl::UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr.size())));  // NOLINT(runtime/int)
  if (req == nullptr) return ossl::OpenSslError("d2i_X509_REQ", Reason::kDataInvalid);
  CV_ASSIGN_OR_RETURN(Bytes request_der, UpdateRequestOf(req.get()));
  Result<provision::VerifiedRequest> vr = provision::VerifyUpdateRequest(request_der, authority.identity_roots.get());
  if (!vr.ok()) return PermissionDeniedError("update request: " + std::string(vr.status().message()));
  ossl::UniquePtr<EVP_PKEY> device(EVP_PKEY_Q_keygen(crypto::LibCtx(), crypto::kPropq, "EC", "P-256"));
  if (device == nullptr) return ossl::OpenSslError("EVP_PKEY_Q_keygen");
  CV_ASSIGN_OR_RETURN(item.verified, DeviceRequest(req.get(), device.get()));
  const AuditActor actor = item.actor.value_or(AuditActor{});
  Result<IssueOutcome> out = deps.queue->Submit(std::move(item), profile);
  if (!out.ok()) return UnavailableError("the CA cannot issue now");
  CV_RETURN_IF_ERROR(out->status);
  Delivery d;
  CV_ASSIGN_OR_RETURN(Bytes package, BuildDelivery(deps, authority, *vr, std::move(device), *out, &d));
  {
    std::lock_guard<std::mutex> lock(*deps.db_mu);
    // Recorded before the answer leaves: the receipt always finds its delivery.
    CV_RETURN_IF_ERROR(deps.db->RecordDeliveries(std::span<const Delivery>(&d, 1), actor));
  }
  CV_ASSIGN_OR_RETURN(KeygenAnswer answer, Multipart(package, out->der));
  answer.serial = out->serial;
  return answer;
}

}  // namespace certvault::ca
