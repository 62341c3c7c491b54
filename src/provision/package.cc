// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// UpdatePackage (docs/formats/update-package.md §3): SignedData by the
// provisioning authority over an AuthEnvelopedData (RFC 5083) to the vault's
// transport key, holding an UpdateContent (RFC 5958 AsymmetricKeyPackage and
// the certificate chain). Encoding and decryption are OpenSSL's CMS code.
#include <openssl/x509v3.h>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"
#include "src/crypto/x509_build.h"
#include "src/provision/asn1.h"
#include "src/provision/cms_util.h"
#include "src/provision/wrapped_key.h"

namespace certvault::ossl {
CV_OSSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free)
}  // namespace certvault::ossl

namespace certvault::provision {
namespace {

using internal::FromU64;
using internal::SetString;

Status Malformed(std::string_view what) { return Status(Reason::kDataInvalid, std::string(what)); }

Status AddKeys(CV_UPDATE_CONTENT* c, const std::vector<SecretBytes>& keys) {
  for (const SecretBytes& k : keys) {
    std::span<const uint8_t> der = k.Bytes(SecretAccess::Get());
    const unsigned char* p = der.data();
    ossl::UniquePtr<PKCS8_PRIV_KEY_INFO> p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size())));
    if (p8 == nullptr) return ossl::OpenSslError("d2i_PKCS8_PRIV_KEY_INFO", Reason::kDataInvalid);
    if (sk_PKCS8_PRIV_KEY_INFO_push(c->keys, p8.get()) <= 0) return ossl::OpenSslError("sk_push");
    p8.release();  // owned by c->keys
  }
  return OkStatus();
}

Status AddCerts(CV_UPDATE_CONTENT* c, const std::vector<Bytes>& certs) {
  for (const Bytes& der : certs) {
    const unsigned char* p = der.data();
    ossl::UniquePtr<X509> x(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
    if (x == nullptr) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
    if (sk_X509_push(c->certificates, x.get()) <= 0) return ossl::OpenSslError("sk_push");
    x.release();  // owned by c->certificates
  }
  return OkStatus();
}

// NewOperation: the version 2 UpdateOperation of a non-key package.
Result<ossl::UniquePtr<CV_UPDATE_OPERATION>> NewOperation(const PackageContent& content) {
  ossl::UniquePtr<CV_UPDATE_OPERATION> op(CV_UPDATE_OPERATION_new());
  if (op == nullptr) return ossl::OpenSslError("CV_UPDATE_OPERATION_new");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> kind, FromU64(static_cast<uint64_t>(content.kind)));
  ASN1_INTEGER_free(op->kind);
  op->kind = kind.release();  // owned by op
  if (!content.key_id.empty()) {
    op->key_id = ASN1_OCTET_STRING_new();
    if (op->key_id == nullptr || ASN1_OCTET_STRING_set(op->key_id, content.key_id.data(),
                                                       static_cast<int>(content.key_id.size())) != 1) {
      return ossl::OpenSslError("ASN1_OCTET_STRING_set");
    }
  }
  if (content.kind == UpdateKind::kSetCapacity) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> cap, FromU64(content.capacity));
    op->capacity = cap.release();  // owned by op
  }
  return op;
}

// AddWrappedKeys: version 3: each key wrapped to the transport key.
Status AddWrappedKeys(CV_UPDATE_CONTENT* c, const std::vector<SecretBytes>& keys, EVP_PKEY* transport) {
  c->wrapped_keys = sk_CV_WRAPPED_KEY_new_null();
  if (c->wrapped_keys == nullptr) return ossl::OpenSslError("sk_new");
  for (const SecretBytes& k : keys) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<CV_WRAPPED_KEY> w, internal::WrapForTransport(k, transport));
    if (sk_CV_WRAPPED_KEY_push(c->wrapped_keys, w.get()) <= 0) return ossl::OpenSslError("sk_push");
    w.release();  // owned by c->wrapped_keys
  }
  return OkStatus();
}

// EncodeContent: the UpdateContent DER, in wiping memory (it holds private keys).
Result<SecretBytes> EncodeContent(const PackageContent& content, EVP_PKEY* transport) {
  CV_RETURN_IF_ERROR(CheckContentShape(content));
  ossl::UniquePtr<CV_UPDATE_CONTENT> c(CV_UPDATE_CONTENT_new());
  if (c == nullptr) return ossl::OpenSslError("CV_UPDATE_CONTENT_new");
  const bool v2 = content.kind != UpdateKind::kDeliverKey;
  if (v2 && content.wrap_keys) return Malformed("only a key delivery wraps its key");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<ASN1_INTEGER> version, FromU64(v2 ? 2 : content.wrap_keys ? 3 : 1));
  ASN1_INTEGER_free(c->version);
  c->version = version.release();  // owned by c
  if (v2) {
    CV_ASSIGN_OR_RETURN(ossl::UniquePtr<CV_UPDATE_OPERATION> op, NewOperation(content));
    c->operation = op.release();  // owned by c
  }
  CV_RETURN_IF_ERROR(SetString(c->label, AsSpan(content.label)));
  if (content.wrap_keys) {
    CV_RETURN_IF_ERROR(AddWrappedKeys(c.get(), content.private_keys, transport));
  } else {
    CV_RETURN_IF_ERROR(AddKeys(c.get(), content.private_keys));
  }
  CV_RETURN_IF_ERROR(AddCerts(c.get(), content.certificates));
  int len = i2d_CV_UPDATE_CONTENT(c.get(), nullptr);
  if (len <= 0) return ossl::OpenSslError("i2d_CV_UPDATE_CONTENT");
  SecretBytes out(static_cast<size_t>(len));
  uint8_t* p = out.MutableBytes(SecretAccess::Get()).data();
  if (i2d_CV_UPDATE_CONTENT(c.get(), &p) != len) return ossl::OpenSslError("i2d_CV_UPDATE_CONTENT");
  return out;
}

// TransportCert: the recipient certificate (issued to the transport key by
// the vault's identity key); only an EC key can be a key-agreement recipient.
Result<ossl::UniquePtr<X509>> TransportCert(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<X509> x(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (x == nullptr || p != der.data() + der.size()) return ossl::OpenSslError("d2i_X509", Reason::kDataInvalid);
  EVP_PKEY* key = X509_get0_pubkey(x.get());
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC")) return InvalidArgumentError("the transport key must be EC P-256");
  return x;
}

Result<Bytes> Envelope(const SecretBytes& plain, std::span<const uint8_t> transport_cert) {
  ossl::UniquePtr<EVP_CIPHER> gcm(EVP_CIPHER_fetch(crypto::LibCtx(), "AES-256-GCM", crypto::kPropq));
  if (gcm == nullptr) return ossl::OpenSslError("EVP_CIPHER_fetch");
  ossl::UniquePtr<CMS_ContentInfo> cms(CMS_AuthEnvelopedData_create_ex(gcm.get(), crypto::LibCtx(), crypto::kPropq));
  if (cms == nullptr) return ossl::OpenSslError("CMS_AuthEnvelopedData_create_ex");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> recipient, TransportCert(transport_cert));
  // rid: issuerAndSerialNumber of the transport certificate (RFC 5652 §6.2.2).
  CMS_RecipientInfo* ri = CMS_add1_recipient_cert(cms.get(), recipient.get(), CMS_KEY_PARAM);
  if (ri == nullptr) return ossl::OpenSslError("CMS_add1_recipient_cert");
  // RFC 5753 §7.1.4 / RFC 8418: dhSinglePass-stdDH-sha256kdf-scheme, not
  // OpenSSL's default SHA-1 KDF.
  EVP_PKEY_CTX* pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
  if (pctx == nullptr || EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, crypto::DigestByName("SHA256")) <= 0) {
    return ossl::OpenSslError("EVP_PKEY_CTX_set_ecdh_kdf_md");
  }
  // A new AuthEnvelopedData is detached until told otherwise (CMS_encrypt_ex
  // does the same): the ciphertext must travel inside the package.
  if (CMS_set_detached(cms.get(), 0) != 1) return ossl::OpenSslError("CMS_set_detached");
  std::span<const uint8_t> p = plain.Bytes(SecretAccess::Get());
  ossl::UniquePtr<BIO> in(BIO_new_mem_buf(p.data(), static_cast<int>(p.size())));
  if (in == nullptr || CMS_final(cms.get(), in.get(), nullptr, CMS_BINARY) != 1) return ossl::OpenSslError("CMS_final");
  return ossl::ToDer<CMS_ContentInfo, i2d_CMS_ContentInfo>(cms.get(), "i2d_CMS_ContentInfo");
}

Status AddHeader(CMS_SignerInfo* si, const Nids& n, const PackageHeader& h) {
  CV_RETURN_IF_ERROR(internal::AddUtf8Attr(si, n.aa_target_serial, h.target_serial));
  CV_RETURN_IF_ERROR(internal::AddIntegerAttr(si, n.aa_counter, h.counter));
  CV_RETURN_IF_ERROR(internal::AddOctetAttr(si, n.aa_nonce, h.nonce));
  return internal::AddTimeAttr(si, n.aa_expiry, h.expires_unix);
}

Result<PackageHeader> ReadHeader(CMS_SignerInfo* si, const Nids& n) {
  PackageHeader h;
  CV_ASSIGN_OR_RETURN(h.target_serial, internal::GetUtf8Attr(si, n.aa_target_serial));
  CV_ASSIGN_OR_RETURN(h.counter, internal::GetIntegerAttr(si, n.aa_counter));
  CV_ASSIGN_OR_RETURN(h.nonce, internal::GetOctetAttr(si, n.aa_nonce));
  CV_ASSIGN_OR_RETURN(h.expires_unix, internal::GetTimeAttr(si, n.aa_expiry));
  return h;
}

bool HasEku(X509* cert, int nid) {
  ossl::UniquePtr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr)));
  for (int i = 0; eku != nullptr && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i)) == nid) return true;
  }
  return false;
}

// AuthorityStore: `authority` as the one trust anchor (also when it is not
// self-signed: X509_V_FLAG_PARTIAL_CHAIN); purposes are checked by us.
Result<ossl::UniquePtr<X509_STORE>> AuthorityStore(X509* authority) {
  ossl::UniquePtr<X509_STORE> store(X509_STORE_new());
  if (store == nullptr || X509_STORE_add_cert(store.get(), authority) != 1 ||
      X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
      X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY) != 1) {
    return ossl::OpenSslError("X509_STORE_add_cert");
  }
  return store;
}

// ReadOperation: version 1 delivers a key and has no operation; version 2
// names its operation (docs/formats/update-package.md, "Versions").
Status ReadOperation(const CV_UPDATE_CONTENT& c, PackageContent* out) {
  CV_ASSIGN_OR_RETURN(uint64_t version, internal::ToU64(c.version));
  if ((version == 3) != (c.wrapped_keys != nullptr)) return Malformed("wrapped keys belong to version 3 only");
  if (version == 3 && c.operation == nullptr) {
    if (sk_PKCS8_PRIV_KEY_INFO_num(c.keys) != 0) return Malformed("a version 3 content has no clear key");
    out->wrap_keys = true;
    return OkStatus();
  }
  if (version == 1 && c.operation == nullptr) return OkStatus();
  if (version != 2 || c.operation == nullptr) return Malformed("unsupported UpdateContent version");
  CV_ASSIGN_OR_RETURN(uint64_t kind, internal::ToU64(c.operation->kind));
  switch (static_cast<UpdateKind>(kind)) {
    case UpdateKind::kRenewCertificate:
    case UpdateKind::kDeleteKey:
    case UpdateKind::kSetCapacity:
    case UpdateKind::kRotateAuthority:
      out->kind = static_cast<UpdateKind>(kind);
      break;
    default:
      return Malformed("unknown update operation");
  }
  if (c.operation->key_id != nullptr) {
    const ASN1_OCTET_STRING* id = c.operation->key_id;
    out->key_id.assign(id->data, id->data + id->length);
  }
  if (c.operation->capacity != nullptr) {
    CV_ASSIGN_OR_RETURN(uint64_t cap, internal::ToU64(c.operation->capacity));
    if (cap > UINT32_MAX) return Malformed("capacity out of range");
    out->capacity = static_cast<uint32_t>(cap);
  } else if (out->kind == UpdateKind::kSetCapacity) {
    return Malformed("a capacity package without a capacity");
  }
  return OkStatus();
}

Result<PackageContent> DecodeContent(std::span<const uint8_t> der, EVP_PKEY* transport_key) {
  const unsigned char* p = der.data();
  ossl::UniquePtr<CV_UPDATE_CONTENT> c(d2i_CV_UPDATE_CONTENT(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (c == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Malformed("malformed UpdateContent");
  }
  PackageContent out;
  CV_RETURN_IF_ERROR(ReadOperation(*c, &out));
  out.label = internal::ToString(c->label);
  for (int i = 0; i < sk_PKCS8_PRIV_KEY_INFO_num(c->keys); ++i) {
    PKCS8_PRIV_KEY_INFO* p8 = sk_PKCS8_PRIV_KEY_INFO_value(c->keys, i);
    int len = i2d_PKCS8_PRIV_KEY_INFO(p8, nullptr);
    if (len <= 0) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
    SecretBytes k(static_cast<size_t>(len));
    uint8_t* w = k.MutableBytes(SecretAccess::Get()).data();
    if (i2d_PKCS8_PRIV_KEY_INFO(p8, &w) != len) return ossl::OpenSslError("i2d_PKCS8_PRIV_KEY_INFO");
    out.private_keys.push_back(std::move(k));
  }
  for (int i = 0; i < sk_CV_WRAPPED_KEY_num(c->wrapped_keys); ++i) {
    CV_ASSIGN_OR_RETURN(SecretBytes k,
                        internal::UnwrapWithTransport(*sk_CV_WRAPPED_KEY_value(c->wrapped_keys, i), transport_key));
    out.private_keys.push_back(std::move(k));
  }
  for (int i = 0; i < sk_X509_num(c->certificates); ++i) {
    CV_ASSIGN_OR_RETURN(Bytes der_cert,
                        (ossl::ToDer<X509, i2d_X509>(sk_X509_value(c->certificates, i), "i2d_X509")));
    out.certificates.push_back(std::move(der_cert));
  }
  CV_RETURN_IF_ERROR(CheckContentShape(out));
  return out;
}

}  // namespace

Status CheckContentShape(const PackageContent& c) {
  const bool keys = !c.private_keys.empty(), certs = !c.certificates.empty(), id = !c.key_id.empty();
  bool ok = false;
  switch (c.kind) {
    case UpdateKind::kDeliverKey:
      ok = c.private_keys.size() == 1 && certs && !id;
      break;
    case UpdateKind::kRenewCertificate:
      ok = !keys && certs && id;
      break;
    case UpdateKind::kDeleteKey:
      ok = !keys && !certs && id;
      break;
    case UpdateKind::kSetCapacity:
      ok = !keys && !certs && !id;
      break;
    case UpdateKind::kRotateAuthority:
      ok = !keys && c.certificates.size() == 1 && !id;
      break;
    default:
      return Malformed("unknown update operation");
  }
  return ok ? OkStatus() : Malformed("the package content does not fit its operation");
}

Result<Bytes> BuildUpdatePackage(const PackageHeader& header, const PackageContent& content,
                                 std::span<const uint8_t> transport_cert, const CmsSigner& authority) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  if (header.nonce.empty() || header.target_serial.empty()) return InvalidArgumentError("incomplete package header");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> recipient, TransportCert(transport_cert));
  CV_ASSIGN_OR_RETURN(SecretBytes plain, EncodeContent(content, X509_get0_pubkey(recipient.get())));
  CV_ASSIGN_OR_RETURN(Bytes enveloped, Envelope(plain, transport_cert));
  return internal::SignCms(nids->ct_package, enveloped, authority,
                           [&](CMS_SignerInfo* si) { return AddHeader(si, *nids, header); });
}

Result<VerifiedPackage> VerifyUpdatePackage(std::span<const uint8_t> der, X509* authority) {
  CV_ASSIGN_OR_RETURN(const Nids* nids, GetNids());
  if (authority == nullptr) return Status(Reason::kSignatureInvalid, "no provisioning authority is pinned");
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509_STORE> store, AuthorityStore(authority));
  CV_ASSIGN_OR_RETURN(internal::CmsVerified v, internal::VerifyCms(der, nids->ct_package, store.get()));
  if (X509_cmp(v.signer.get(), authority) != 0 && !HasEku(v.signer.get(), nids->kp_provisioning)) {
    return Status(Reason::kSignatureInvalid, "the signer is not authorized to provision (EKU)");
  }
  VerifiedPackage out;
  CV_ASSIGN_OR_RETURN(out.header, ReadHeader(v.signer_info, *nids));
  out.signer_cert = std::move(v.signer);
  out.enveloped = std::move(v.content);
  CV_ASSIGN_OR_RETURN(out.sha256, Sha256(der));
  return out;
}

Result<PackageContent> OpenUpdatePackage(const VerifiedPackage& package, EVP_PKEY* transport_key) {
  const unsigned char* p = package.enveloped.data();
  ossl::UniquePtr<CMS_ContentInfo> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(package.enveloped.size())));  // NOLINT(runtime/int)
  if (cms == nullptr || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_id_smime_ct_authEnvelopedData) {
    ossl::ClearErrors();
    return Malformed("the package content is not an AuthEnvelopedData");
  }
  // Secure memory BIO: the plaintext holds private keys and is wiped on free.
  ossl::UniquePtr<BIO> out(BIO_new(BIO_s_secmem()));
  if (out == nullptr) return ossl::OpenSslError("BIO_new");
  if (CMS_decrypt(cms.get(), transport_key, nullptr, nullptr, out.get(), CMS_BINARY) != 1) {
    return ossl::OpenSslError("CMS_decrypt", Reason::kEncryptedDataInvalid);
  }
  const uint8_t* data = nullptr;
  long n = BIO_get_mem_data(out.get(), &data);  // NOLINT(runtime/int)
  if (n < 0) return ossl::OpenSslError("BIO_get_mem_data");
  return DecodeContent(std::span<const uint8_t>(data, static_cast<size_t>(n)), transport_key);
}

}  // namespace certvault::provision
