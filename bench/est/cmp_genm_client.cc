// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-cmp-genm: asks a CMP server the general messages `openssl cmp`
// 3.0 cannot ask (it has no types for them): RFC 9483 §4.3.2 root CA key
// update (id-it-rootCaCert, answered with id-it-rootCaKeyUpdate) and §4.3.4
// CRL update retrieval (id-it-crlStatusList, answered with id-it-crls), with
// the contents of ca/cmp/cmp_genm.h. Signature protection with --cert/--key,
// the answer verified against --trusted. Prints what came back:
//   certvault-cmp-genm --port P --path PATH --trusted F --cert F --key F [--untrusted F]
//       (--root [--have CERT] | --crl URL [--since EPOCH]) [--out F]
//   rootCaKeyUpdate absent | rootCaKeyUpdate newWithOld=0|1 oldWithNew=0|1   (--out: newWithNew, DER)
//   crls absent | crls N                                                     (--out: the first CRL, DER)
// Exit 0 when an answer came, 1 otherwise. A test client (tests/ca/ca_cmp_test.sh).
#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "ca/cmp/cmp_genm.h"

namespace {

using certvault::Bytes;
namespace cmp = certvault::ca::cmp;

int Quiet(const char*, const char*, int, OSSL_CMP_severity, const char*) { return 1; }

X509* ReadCert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return nullptr;
  X509* c = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return c;
}

Bytes CertDer(X509* c) {
  unsigned char* buf = nullptr;
  int len = i2d_X509(c, &buf);
  Bytes out(buf, buf + (len > 0 ? len : 0));
  OPENSSL_free(buf);
  return out;
}

bool WriteFile(const std::string& path, const Bytes& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  bool ok = f != nullptr && std::fwrite(data.data(), 1, data.size(), f) == data.size();
  if (f != nullptr) std::fclose(f);
  return ok;
}

// Question: the request ITAV (the value a DER SEQUENCE, or absent).
OSSL_CMP_ITAV* Question(const char* oid, const std::optional<Bytes>& der) {
  ASN1_TYPE* value = nullptr;
  if (der.has_value()) {
    ASN1_STRING* str = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
    ASN1_STRING_set(str, der->data(), static_cast<int>(der->size()));
    value = ASN1_TYPE_new();
    ASN1_TYPE_set(value, V_ASN1_SEQUENCE, str);
  }
  return OSSL_CMP_ITAV_create(OBJ_txt2obj(oid, 1), value);
}

std::optional<Bytes> Answer(STACK_OF(OSSL_CMP_ITAV) * got, const char* oid, bool* found) {
  *found = false;
  for (int i = 0; i < sk_OSSL_CMP_ITAV_num(got); ++i) {
    const OSSL_CMP_ITAV* itav = sk_OSSL_CMP_ITAV_value(got, i);
    char text[64] = "";
    OBJ_obj2txt(text, sizeof(text), OSSL_CMP_ITAV_get0_type(itav), 1);
    if (std::strcmp(text, oid) != 0) continue;
    *found = true;
    const ASN1_TYPE* v = OSSL_CMP_ITAV_get0_value(itav);
    if (v == nullptr || v->type != V_ASN1_SEQUENCE) return std::nullopt;
    const ASN1_STRING* s = v->value.sequence;
    return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
  }
  return std::nullopt;
}

int Report(STACK_OF(OSSL_CMP_ITAV) * got, bool root, const std::string& out) {
  bool found = false;
  std::optional<Bytes> value = Answer(got, root ? cmp::kOidRootCaKeyUpdate : cmp::kOidCrls, &found);
  if (!found) {
    std::fprintf(stderr, "cmp-genm: the answer has no %s\n", root ? "rootCaKeyUpdate" : "crls");
    return 1;
  }
  if (!value.has_value()) {
    std::printf("%s absent\n", root ? "rootCaKeyUpdate" : "crls");
    return 0;
  }
  if (root) {
    auto update = cmp::DecodeRootCaKeyUpdate(*value);
    if (!update.ok()) return 1;
    std::printf("rootCaKeyUpdate newWithOld=%d oldWithNew=%d\n", !update->new_with_old.empty(),
                !update->old_with_new.empty());
    return out.empty() || WriteFile(out, update->new_with_new) ? 0 : 1;
  }
  auto crls = cmp::DecodeCrls(*value);
  if (!crls.ok()) return 1;
  std::printf("crls %zu\n", crls->size());
  return out.empty() || WriteFile(out, crls->front()) ? 0 : 1;
}

// QuestionValue: the DER of the question's value (absent for --root without --have).
bool QuestionValue(std::map<std::string, std::string>& o, bool root, std::optional<Bytes>* out) {
  if (root && !o["have"].empty()) {
    X509* have = ReadCert(o["have"]);
    if (have == nullptr) return false;
    *out = CertDer(have);
    X509_free(have);
  }
  if (!root) {
    cmp::CrlStatus status;
    status.dpn_uris = {o["crl"]};
    if (!o["since"].empty()) status.this_update = std::atoll(o["since"].c_str());
    auto der = cmp::EncodeCrlStatusList({status});
    if (!der.ok()) return false;
    *out = *der;
  }
  return true;
}

STACK_OF(X509) * ReadCerts(const std::string& path) {
  STACK_OF(X509)* certs = sk_X509_new_null();
  FILE* f = path.empty() ? nullptr : std::fopen(path.c_str(), "r");
  for (X509* c = nullptr; f != nullptr && (c = PEM_read_X509(f, nullptr, nullptr, nullptr)) != nullptr;) {
    sk_X509_push(certs, c);
  }
  if (f != nullptr) std::fclose(f);
  ERR_clear_error();
  return certs;
}

// Configure: the CMP context for one signature-protected genm.
bool Configure(OSSL_CMP_CTX* ctx, std::map<std::string, std::string>& o, X509* anchor, X509* cert, EVP_PKEY* key,
               STACK_OF(X509) * untrusted) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, anchor);
  if (OSSL_CMP_CTX_set0_trustedStore(ctx, store) != 1) {
    X509_STORE_free(store);
    return false;
  }
  return OSSL_CMP_CTX_set_log_cb(ctx, Quiet) == 1 && OSSL_CMP_CTX_set1_server(ctx, "127.0.0.1") == 1 &&
         OSSL_CMP_CTX_set_serverPort(ctx, std::atoi(o["port"].c_str())) == 1 &&
         OSSL_CMP_CTX_set1_serverPath(ctx, o["path"].c_str()) == 1 && OSSL_CMP_CTX_set1_untrusted(ctx, untrusted) == 1 &&
         OSSL_CMP_CTX_set1_cert(ctx, cert) == 1 && OSSL_CMP_CTX_set1_pkey(ctx, key) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> o;
  bool root = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--root") == 0) {
      root = true;
    } else if (i + 1 < argc) {
      o[argv[i] + 2] = argv[i + 1];
      ++i;
    }
  }
  X509* anchor = ReadCert(o["trusted"]);
  X509* cert = ReadCert(o["cert"]);
  FILE* kf = std::fopen(o["key"].c_str(), "r");
  EVP_PKEY* key = kf != nullptr ? PEM_read_PrivateKey(kf, nullptr, nullptr, nullptr) : nullptr;
  if (kf != nullptr) std::fclose(kf);
  std::optional<Bytes> question;
  if (anchor == nullptr || cert == nullptr || key == nullptr || (!root && o["crl"].empty()) ||
      !QuestionValue(o, root, &question)) {
    std::fprintf(stderr, "cmp-genm: bad arguments (see the header of cmp_genm_client.cc)\n");
    return 2;
  }
  OSSL_CMP_CTX* ctx = OSSL_CMP_CTX_new(nullptr, nullptr);
  STACK_OF(X509)* untrusted = ReadCerts(o["untrusted"]);
  bool ok = ctx != nullptr && Configure(ctx, o, anchor, cert, key, untrusted) &&
            OSSL_CMP_CTX_push0_genm_ITAV(ctx, Question(root ? cmp::kOidRootCaCert : cmp::kOidCrlStatusList, question)) == 1;
  STACK_OF(OSSL_CMP_ITAV)* got = ok ? OSSL_CMP_exec_GENM_ses(ctx) : nullptr;
  int rc = 1;
  if (got != nullptr) {
    rc = Report(got, root, o["out"]);
  } else {
    char buf[256] = "";
    if (ctx != nullptr) OSSL_CMP_CTX_snprint_PKIStatus(ctx, buf, sizeof(buf));
    std::fprintf(stderr, "cmp-genm: no answer: %s\n", buf);
    ERR_print_errors_fp(stderr);
  }
  sk_OSSL_CMP_ITAV_pop_free(got, OSSL_CMP_ITAV_free);
  sk_X509_pop_free(untrusted, X509_free);
  OSSL_CMP_CTX_free(ctx);
  X509_free(anchor);
  X509_free(cert);
  EVP_PKEY_free(key);
  return rc;
}
