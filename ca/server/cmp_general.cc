// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// genm (RFC 9483 §4.3): one genp InfoTypeAndValue per question asked.
//   id-it-caCerts (§4.3.1), or anything else: the issuing CA and the root.
//   id-it-rootCaCert (§4.3.2): id-it-rootCaKeyUpdate with the newest root
//     and its link certificates after a root rollover, absent without one.
//   id-it-crlStatusList (§4.3.4): id-it-crls with the current CRL when a
//     status names this CA's CRL (by distribution point or issuer) and is
//     older or has no thisUpdate; absent otherwise.
// The contents OpenSSL 3.0 has no types for come from ca/cmp/cmp_genm.h.
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>

#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "ca/cmp/cmp_genm.h"
#include "ca/cmp/cmp_ptr.h"
#include "ca/der/der_writer.h"
#include "ca/server/cmp_service.h"
#include "ca/server/cmp_service_internal.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
using cmp_internal::Der;

namespace {

struct ItavStackFree {
  void operator()(STACK_OF(OSSL_CMP_ITAV) * s) const { sk_OSSL_CMP_ITAV_pop_free(s, OSSL_CMP_ITAV_free); }
};
using ItavStack = std::unique_ptr<STACK_OF(OSSL_CMP_ITAV), ItavStackFree>;

// Push: an ITAV of `oid` whose value is the DER SEQUENCE `der` (absent when
// nullptr) onto `out`.
bool Push(STACK_OF(OSSL_CMP_ITAV) * out, ASN1_OBJECT* oid, const Bytes* der) {
  ossl::UniquePtr<ASN1_OBJECT> type(oid);
  ossl::UniquePtr<ASN1_TYPE> value;
  if (der != nullptr) {
    ossl::UniquePtr<ASN1_STRING> str(ASN1_STRING_type_new(V_ASN1_SEQUENCE));
    value.reset(ASN1_TYPE_new());
    if (str == nullptr || value == nullptr || ASN1_STRING_set(str.get(), der->data(), static_cast<int>(der->size())) != 1) {
      return false;
    }
    ASN1_TYPE_set(value.get(), V_ASN1_SEQUENCE, str.release());  // owned by `value`
  }
  if (type == nullptr) return false;
  ossl::UniquePtr<OSSL_CMP_ITAV> itav(OSSL_CMP_ITAV_create(type.get(), value.get()));
  if (itav == nullptr) return false;
  (void)type.release();   // owned by `itav`
  (void)value.release();  // owned by `itav`
  if (sk_OSSL_CMP_ITAV_push(out, itav.get()) <= 0) return false;
  (void)itav.release();  // owned by `out`
  return true;
}

// SequenceDer: the DER of a SEQUENCE value of an ITAV (nullopt if absent or
// of another type).
std::optional<Bytes> SequenceDer(const OSSL_CMP_ITAV* itav) {
  const ASN1_TYPE* v = OSSL_CMP_ITAV_get0_value(itav);
  if (v == nullptr || v->type != V_ASN1_SEQUENCE) return std::nullopt;
  const ASN1_STRING* s = v->value.sequence;
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

Result<Bytes> PemCertDer(const std::string& path) {
  ossl::UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  ossl::UniquePtr<X509> cert(bio != nullptr ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (cert == nullptr) {
    ERR_clear_error();
    return NotFoundError(path + ": no certificate");
  }
  return Der([&](unsigned char** b) { return i2d_X509(cert.get(), b); });
}

// RootGeneration: "root = N" of the instance's generations file (1 without a root rollover).
int RootGeneration(const std::string& dir) {
  std::ifstream in(dir + "/generations");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("root = ")) return std::atoi(line.c_str() + 7);
  }
  return 1;
}

// RootUpdate: RFC 9483 §4.3.2: "If no update is available, the infoValue
// MUST be absent." After `rollover --root` (generation M ≥ 2): newWithNew is
// root-gM.pem, with the two link certificates of RFC 4210 §4.4, unless the
// client already has that root.
Result<std::optional<Bytes>> RootUpdate(const std::string& dir, const std::optional<Bytes>& have) {
  int gen = RootGeneration(dir);
  if (gen < 2) return std::optional<Bytes>();
  std::string base = dir + "/root-g" + std::to_string(gen);
  cmp::RootCaKeyUpdate update;
  CV_ASSIGN_OR_RETURN(update.new_with_new, PemCertDer(base + ".pem"));
  if (have.has_value() && *have == update.new_with_new) return std::optional<Bytes>();
  CV_ASSIGN_OR_RETURN(update.new_with_old, PemCertDer(base + "-new-with-old.pem"));
  CV_ASSIGN_OR_RETURN(update.old_with_new, PemCertDer(base + "-old-with-new.pem"));
  CV_ASSIGN_OR_RETURN(Bytes der, cmp::EncodeRootCaKeyUpdate(update));
  return std::optional<Bytes>(std::move(der));
}

// WantsCrl: a status names this CA's CRL and is older than `crl` (or has none).
bool WantsCrl(const std::vector<cmp::CrlStatus>& list, const std::string& crl_url, const Bytes& issuer,
              int64_t this_update) {
  for (const cmp::CrlStatus& s : list) {
    bool ours = std::find(s.dpn_uris.begin(), s.dpn_uris.end(), crl_url) != s.dpn_uris.end() ||
                std::find(s.issuers.begin(), s.issuers.end(), issuer) != s.issuers.end();
    if (ours && (!s.this_update.has_value() || *s.this_update < this_update)) return true;
  }
  return false;
}

}  // namespace

bool CmpService::Genm(Req& r, const STACK_OF(OSSL_CMP_ITAV) * in, STACK_OF(OSSL_CMP_ITAV) * *out) {
  if (!r.auth.ok()) {
    r.reason = std::string(r.auth.message());
    return false;
  }
  ItavStack list(sk_OSSL_CMP_ITAV_new_null());
  bool ca_certs = sk_OSSL_CMP_ITAV_num(in) <= 0;
  for (int i = 0; list != nullptr && i < sk_OSSL_CMP_ITAV_num(in); ++i) {
    const OSSL_CMP_ITAV* q = sk_OSSL_CMP_ITAV_value(in, i);
    char oid[64] = "";
    OBJ_obj2txt(oid, sizeof(oid), OSSL_CMP_ITAV_get0_type(q), 1);
    Status st = OkStatus();
    if (std::string_view(oid) == cmp::kOidRootCaCert) {
      st = AnswerRootCaCert(q, list.get());
    } else if (std::string_view(oid) == cmp::kOidCrlStatusList) {
      st = AnswerCrlStatusList(*r.gen, q, list.get());
    } else {
      ca_certs = true;
    }
    if (!st.ok()) {
      r.reason = std::string(st.message());
      return false;
    }
  }
  if (list == nullptr || (ca_certs && !AnswerCaCerts(*r.gen, list.get()).ok())) return false;
  *out = list.release();  // owned by OpenSSL's server
  return true;
}

// AnswerCaCerts: RFC 9483 §4.3.1 "Get CA Certificates": id-it-caCerts with
// the issuing CA and the root.
Status CmpService::AnswerCaCerts(const CmpGeneration& gen, STACK_OF(OSSL_CMP_ITAV) * out) {
  Bytes certs;
  for (X509* c : {gen.issuing, gen.root}) {
    if (c == nullptr) continue;
    Bytes der = Der([&](unsigned char** b) { return i2d_X509(c, b); });
    certs.insert(certs.end(), der.begin(), der.end());
  }
  Bytes seq = der::Wrap(der::kSequence, certs);  // caCerts: SEQUENCE OF CMPCertificate
  bool ok = Push(out, OBJ_nid2obj(NID_id_it_caCerts), &seq);
  return ok ? OkStatus() : InternalError("genp caCerts");
}

Status CmpService::AnswerRootCaCert(const OSSL_CMP_ITAV* q, STACK_OF(OSSL_CMP_ITAV) * out) {
  CV_ASSIGN_OR_RETURN(std::optional<Bytes> update, RootUpdate(deps_.ca->dir, SequenceDer(q)));
  bool ok = Push(out, OBJ_txt2obj(cmp::kOidRootCaKeyUpdate, 1), update.has_value() ? &*update : nullptr);
  return ok ? OkStatus() : InternalError("genp rootCaKeyUpdate");
}

Status CmpService::AnswerCrlStatusList(const CmpGeneration& gen, const OSSL_CMP_ITAV* q,
                                         STACK_OF(OSSL_CMP_ITAV) * out) {
  std::optional<Bytes> asked = SequenceDer(q);
  if (!asked.has_value()) return InvalidArgumentError("crlStatusList without a value");
  CV_ASSIGN_OR_RETURN(std::vector<cmp::CrlStatus> list, cmp::DecodeCrlStatusList(*asked));
  Result<CrlRecord> crl = NotFoundError("no CRL");
  {
    std::lock_guard<std::mutex> lock(db_mu_);
    crl = deps_.db->LatestCrl(gen.ca_name, false, 0);
  }
  if (!crl.ok() && crl.status().code() != StatusCode::kNotFound) return crl.status();
  Bytes issuer = Der([&](unsigned char** b) { return i2d_X509_NAME(X509_get_subject_name(gen.issuing), b); });
  std::optional<Bytes> crls;
  if (crl.ok() && WantsCrl(list, deps_.ca->crl_url, issuer, crl->this_update)) {
    CV_ASSIGN_OR_RETURN(Bytes der, cmp::EncodeCrls({crl->der}));
    crls = std::move(der);
  }
  bool ok = Push(out, OBJ_txt2obj(cmp::kOidCrls, 1), crls.has_value() ? &*crls : nullptr);
  return ok ? OkStatus() : InternalError("genp crls");
}

}  // namespace certvault::ca
