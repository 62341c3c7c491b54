// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "cli/cert_io.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <climits>

#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"

namespace certvault::cli {
namespace {

constexpr size_t kMaxCertificates = 64;

Result<ossl::UniquePtr<X509>> ParseDer(std::span<const uint8_t> der) {
  const uint8_t* p = der.data();
  ossl::UniquePtr<X509> cert(crypto::D2iX509(&p, static_cast<long>(der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr || p != der.data() + der.size()) {
    ossl::ClearErrors();
    return Status(Reason::kDataInvalid, "not a DER certificate");
  }
  return cert;
}

template <typename T, int (*I2d)(const T*, unsigned char**)>
Result<Bytes> Encode(const T* obj) {
  int len = I2d(obj, nullptr);
  if (len <= 0) return ossl::OpenSslError("i2d");
  Bytes out(static_cast<size_t>(len));
  uint8_t* p = out.data();
  if (I2d(obj, &p) != len) return ossl::OpenSslError("i2d");
  return out;
}

Result<std::vector<Bytes>> ParsePem(std::span<const uint8_t> file) {
  ossl::UniquePtr<BIO> bio(BIO_new_mem_buf(file.data(), static_cast<int>(file.size())));
  if (bio == nullptr) return ossl::OpenSslError("BIO_new_mem_buf");
  std::vector<Bytes> out;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;  // NOLINT(runtime/int)
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    bool is_cert = std::string_view(name) == "CERTIFICATE" || std::string_view(name) == "X509 CERTIFICATE";
    Bytes der(data, data + len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (!is_cert) continue;
    CV_RETURN_IF_ERROR(ParseDer(der).status());
    if (out.size() == kMaxCertificates) return Status(Reason::kDataLenRange, "more than 64 certificates in the file");
    out.push_back(std::move(der));
  }
  ossl::ClearErrors();  // the loop ends with PEM_R_NO_START_LINE
  if (out.empty()) return Status(Reason::kDataInvalid, "the file holds no PEM certificate");
  return out;
}

// AllNamesIn: every commonName of `asked` is one of `got`'s.
bool AllNamesIn(const X509_NAME* asked, const X509_NAME* got) {
  for (int i = -1; (i = X509_NAME_get_index_by_NID(asked, NID_commonName, i)) >= 0;) {
    const ASN1_STRING* want = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(asked, i));
    bool found = false;
    for (int j = -1; !found && (j = X509_NAME_get_index_by_NID(got, NID_commonName, j)) >= 0;) {
      found = ASN1_STRING_cmp(want, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(got, j))) == 0;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<Bytes>> ParseCertificates(std::span<const uint8_t> file) {
  if (file.empty() || file.size() > INT_MAX) return Status(Reason::kDataInvalid, "empty or oversized certificate file");
  std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
  if (text.find("-----BEGIN") != std::string_view::npos) return ParsePem(file);
  CV_RETURN_IF_ERROR(ParseDer(file).status());
  return std::vector<Bytes>{Bytes(file.begin(), file.end())};
}

Result<AttributeSet> CertificateTemplate(std::span<const uint8_t> der, std::string_view label, const Bytes& id) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseDer(der));
  CV_ASSIGN_OR_RETURN(Bytes subject, (Encode<X509_NAME, i2d_X509_NAME>(X509_get_subject_name(cert.get()))));
  CV_ASSIGN_OR_RETURN(Bytes issuer, (Encode<X509_NAME, i2d_X509_NAME>(X509_get_issuer_name(cert.get()))));
  CV_ASSIGN_OR_RETURN(Bytes serial, (Encode<ASN1_INTEGER, i2d_ASN1_INTEGER>(X509_get0_serialNumber(cert.get()))));
  AttributeSet tmpl;
  tmpl.SetUlong(CKA_CLASS, CKO_CERTIFICATE);
  tmpl.SetUlong(CKA_CERTIFICATE_TYPE, CKC_X_509);
  tmpl.SetBool(CKA_TOKEN, true);
  tmpl.SetBool(CKA_PRIVATE, false);
  tmpl.SetString(CKA_LABEL, label);
  tmpl.Set(CKA_ID, id);
  tmpl.Set(CKA_SUBJECT, subject);
  tmpl.Set(CKA_ISSUER, issuer);
  tmpl.Set(CKA_SERIAL_NUMBER, serial);
  tmpl.Set(CKA_VALUE, der);
  return tmpl;
}

Result<Bytes> CertificatePublicKeyInfo(std::span<const uint8_t> der) {
  CV_ASSIGN_OR_RETURN(ossl::UniquePtr<X509> cert, ParseDer(der));
  return Encode<X509_PUBKEY, i2d_X509_PUBKEY>(X509_get_X509_PUBKEY(cert.get()));
}

std::string CommonNameOf(std::span<const uint8_t> der) {
  Result<ossl::UniquePtr<X509>> cert = ParseDer(der);
  if (!cert.ok()) return "";
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert->get()), NID_commonName, cn, sizeof(cn)) <= 0) {
    ossl::ClearErrors();
    return "";
  }
  return cn;
}

Status CheckAsAsked(const Bytes& leaf_der, const Bytes& csr_der) {
  const uint8_t* p = leaf_der.data();
  ossl::UniquePtr<X509> leaf(d2i_X509(nullptr, &p, static_cast<long>(leaf_der.size())));  // NOLINT(runtime/int)
  p = csr_der.data();
  ossl::UniquePtr<X509_REQ> csr(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())));  // NOLINT(runtime/int)
  if (leaf == nullptr || csr == nullptr) return Status(Reason::kDataInvalid, "cannot read the issued certificate");
  auto refuse = [](const std::string& why) {
    return Status(StatusCode::kPermissionDenied, Reason::kDataInvalid, "the issued certificate " + why);
  };
  if (X509_check_ca(leaf.get()) != 0) return refuse("is a CA certificate, not the end-entity certificate asked for");
  if (!AllNamesIn(X509_REQ_get_subject_name(csr.get()), X509_get_subject_name(leaf.get()))) {
    return refuse("does not carry the commonName asked for");
  }
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr.get());
  auto* asked = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr));
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  auto* got = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, nullptr, nullptr));
  bool all = true;
  for (int i = 0; all && i < sk_GENERAL_NAME_num(asked); ++i) {
    bool found = false;
    for (int j = 0; !found && j < sk_GENERAL_NAME_num(got); ++j) {
      found = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(asked, i), sk_GENERAL_NAME_value(got, j)) == 0;
    }
    all = found;
  }
  GENERAL_NAMES_free(asked);
  GENERAL_NAMES_free(got);
  return all ? OkStatus() : refuse("lacks a subjectAltName asked for");
}


}  // namespace certvault::cli
