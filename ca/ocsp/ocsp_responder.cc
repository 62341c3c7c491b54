// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/ocsp/ocsp_responder.h"

#include <openssl/ocsp.h>

#include <array>

#include "ca/crl/crl_builder.h"
#include "ca/der/der_writer.h"
#include "ca/ocsp/ocsp_ptr.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_der.h"
#include "src/crypto/ossl_error.h"

namespace certvault::ca {
namespace {

// id-pkix-ocsp-basic (1.3.6.1.5.5.7.48.1.1).
constexpr std::array<uint8_t, 11> kBasicOid = {0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};

int I2dSingle(const OCSP_SINGLERESP* s, unsigned char** pp) {
  return i2d_OCSP_SINGLERESP(const_cast<OCSP_SINGLERESP*>(s), pp);
}

// The CertID hash algorithms answered (RFC 6960 §4.1.1 names SHA-1; RFC
// 5019 and RFC 8954 clients use SHA-256 and up). Any other gets "unknown"
// for that CertID.
constexpr std::array<std::pair<int, const char*>, 4> kCertIdHashes = {
    {{NID_sha1, "SHA1"}, {NID_sha256, "SHA2-256"}, {NID_sha384, "SHA2-384"}, {NID_sha512, "SHA2-512"}}};

std::string SerialHex(OCSP_CERTID* id) {
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id) != 1 || serial == nullptr ||
      ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER) {
    return "";
  }
  ossl::UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr || BN_num_bytes(bn.get()) > 21) return "";
  Bytes bytes(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), bytes.data());
  return HexEncode(bytes);
}

}  // namespace

Bytes OcspErrorResponse(uint8_t status) {
  Bytes body;
  uint8_t e[3] = {der::kEnumerated, 1, status};
  body.insert(body.end(), e, e + 3);
  return der::Wrap(der::kSequence, body);
}

// IssuerMatches: RFC 6960 §4.1.1: issuerNameHash and issuerKeyHash under the
// request's hash algorithm (one of kCertIdHashes) must name our CA.
bool OcspResponder::IssuerMatches(OCSP_CERTID* id) const {
  ASN1_OCTET_STRING* name_hash = nullptr;
  ASN1_OBJECT* md_oid = nullptr;
  ASN1_OCTET_STRING* key_hash = nullptr;
  if (OCSP_id_get0_info(&name_hash, &md_oid, &key_hash, nullptr, id) != 1 || name_hash == nullptr ||
      key_hash == nullptr) {
    return false;
  }
  int nid = OBJ_obj2nid(md_oid);
  for (const IssuerHashes& h : issuer_hashes_) {
    if (h.nid != nid) continue;
    auto same = [](const ASN1_OCTET_STRING* s, const Bytes& want) {
      return static_cast<size_t>(ASN1_STRING_length(s)) == want.size() &&
             CRYPTO_memcmp(ASN1_STRING_get0_data(s), want.data(), want.size()) == 0;
    };
    return same(name_hash, h.name_hash) && same(key_hash, h.key_hash);
  }
  return false;
}

Status OcspResponder::HashIssuer() {
  for (const auto& [nid, name] : kCertIdHashes) {
    ossl::UniquePtr<EVP_MD> md(EVP_MD_fetch(crypto::LibCtx(), name, nullptr));
    if (md == nullptr) return ossl::OpenSslError("EVP_MD_fetch");
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    IssuerHashes h;
    h.nid = nid;
    if (X509_NAME_digest(X509_get_subject_name(issuer_), md.get(), buf, &len) != 1) {
      return ossl::OpenSslError("X509_NAME_digest");
    }
    h.name_hash.assign(buf, buf + len);
    // issuerKeyHash: over the subjectPublicKey BIT STRING's value (§4.1.1).
    if (X509_pubkey_digest(issuer_, md.get(), buf, &len) != 1) return ossl::OpenSslError("X509_pubkey_digest");
    h.key_hash.assign(buf, buf + len);
    issuer_hashes_.push_back(std::move(h));
  }
  return OkStatus();
}

Result<std::unique_ptr<OcspResponder>> OcspResponder::Create(CertDb& db, std::string ca_name, X509* issuer,
                                                             X509* signer_cert, CaKey& signer_key,
                                                             uint32_t validity_minutes) {
  std::unique_ptr<OcspResponder> r(new OcspResponder());
  r->db_ = &db;
  r->ca_name_ = std::move(ca_name);
  r->issuer_ = issuer;
  r->validity_minutes_ = validity_minutes;
  CV_RETURN_IF_ERROR(r->UseSigner(signer_cert, signer_key));
  CV_RETURN_IF_ERROR(r->HashIssuer());
  CV_ASSIGN_OR_RETURN(r->last_revocation_id_, db.MaxRevocationId(r->ca_name_));
  return r;
}

Status OcspResponder::UseSigner(X509* cert, CaKey& key) {
  if (EVP_PKEY_eq(X509_get0_pubkey(cert), key.public_key()) != 1) {
    return FailedPreconditionError("the OCSP signing certificate does not match the OCSP key in the token");
  }
  auto signer = std::make_shared<Signer>();
  signer->cert = cert;
  signer->key = &key;
  // ResponderID byKey: SHA-1 of the responder's public key BIT STRING (§4.2.1).
  ossl::UniquePtr<EVP_MD> sha1(EVP_MD_fetch(crypto::LibCtx(), "SHA1", nullptr));
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (sha1 == nullptr || X509_pubkey_digest(cert, sha1.get(), hash, &len) != 1) {
    return ossl::OpenSslError("X509_pubkey_digest");
  }
  signer->key_hash.assign(hash, hash + len);
  CV_ASSIGN_OR_RETURN(signer->cert_der, (ossl::ToDer<X509, i2d_X509>(cert, "i2d_X509")));
  CV_ASSIGN_OR_RETURN(signer->algid, AlgorithmIdentifierDer(key.algorithm()));
  {
    std::lock_guard<std::mutex> lock(signer_mu_);
    signer_ = std::move(signer);
  }
  Invalidate();  // cached answers carry the previous signer
  return OkStatus();
}

std::shared_ptr<const OcspResponder::Signer> OcspResponder::CurrentSigner() const {
  std::lock_guard<std::mutex> lock(signer_mu_);
  return signer_;
}

Result<Bytes> OcspResponder::SingleResponse(OCSP_CERTID* id, time_t now, bool& out_known) {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  time_t revoked_at = 0;
  std::string serial = SerialHex(id);
  if (!serial.empty() && IssuerMatches(id)) {
    std::lock_guard<std::mutex> lock(db_mu_);
    // The audit chain first: a revocation committing between the two reads
    // then shows as revoked (not as a contradiction).
    CV_ASSIGN_OR_RETURN(bool recorded, db_->HasRevokeRecord(ca_name_, serial));
    Result<CertRecord> rec = db_->FindBySerial(ca_name_, serial);
    if (rec.ok()) {
      status = rec->revoked ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
      if (rec->revoked && rec->reason != 0) reason = rec->reason;
      revoked_at = static_cast<time_t>(rec->revoked_at);
      // Never "good" for a certificate the audit chain says was revoked (its
      // row reset behind the CA's back): internalError until it is resolved.
      if (!rec->revoked && recorded) {
        return DataLossError("certificate " + serial + " is good in the database but revoked in the audit chain");
      }
    } else if (rec.status().code() != StatusCode::kNotFound) {
      return rec.status();
    }
  }
  ossl::ClearErrors();
  out_known = status != V_OCSP_CERTSTATUS_UNKNOWN;
  ossl::UniquePtr<OCSP_BASICRESP> scratch(OCSP_BASICRESP_new());
  ossl::UniquePtr<ASN1_STRING> this_update(ASN1_GENERALIZEDTIME_set(nullptr, now));
  ossl::UniquePtr<ASN1_STRING> next_update(
      ASN1_GENERALIZEDTIME_set(nullptr, now + static_cast<time_t>(validity_minutes_) * 60));
  ossl::UniquePtr<ASN1_STRING> rev_time(ASN1_GENERALIZEDTIME_set(nullptr, revoked_at));
  if (scratch == nullptr || this_update == nullptr || next_update == nullptr || rev_time == nullptr) {
    return ossl::OpenSslError("ASN1_GENERALIZEDTIME_set");
  }
  OCSP_SINGLERESP* single =
      OCSP_basic_add1_status(scratch.get(), id, status, reason, rev_time.get(), this_update.get(), next_update.get());
  if (single == nullptr) return ossl::OpenSslError("OCSP_basic_add1_status");
  return ossl::ToDer<OCSP_SINGLERESP, I2dSingle>(single, "i2d_OCSP_SINGLERESP");
}

Result<Bytes> OcspResponder::Sign(std::span<const Bytes* const> singles, X509_EXTENSION* nonce, time_t now) {
  std::shared_ptr<const Signer> signer = CurrentSigner();
  Bytes rd;
  der::AppendTlv(rd, der::ContextTag(2, true), der::Wrap(der::kOctetString, signer->key_hash));
  der::AppendGeneralizedTime(rd, now);
  Bytes list;
  for (const Bytes* s : singles) list.insert(list.end(), s->begin(), s->end());
  der::AppendTlv(rd, der::kSequence, list);
  if (nonce != nullptr) {
    // RFC 6960 §4.4.1 / RFC 8954: the nonce extension is echoed unchanged.
    CV_ASSIGN_OR_RETURN(Bytes ext, (ossl::ToDer<X509_EXTENSION, i2d_X509_EXTENSION>(nonce, "i2d_X509_EXTENSION")));
    der::AppendTlv(rd, der::ContextTag(1, true), der::Wrap(der::kSequence, ext));
  }
  Bytes tbs = der::Wrap(der::kSequence, rd);
  CV_ASSIGN_OR_RETURN(Bytes bits, SignToBitString(tbs, *signer->key));
  Bytes basic = std::move(tbs);
  basic.insert(basic.end(), signer->algid.begin(), signer->algid.end());
  basic.insert(basic.end(), bits.begin(), bits.end());
  der::AppendTlv(basic, der::ContextTag(0, true), der::Wrap(der::kSequence, signer->cert_der));
  Bytes bytes(kBasicOid.begin(), kBasicOid.end());
  der::AppendTlv(bytes, der::kOctetString, der::Wrap(der::kSequence, basic));
  Bytes resp = {der::kEnumerated, 1, 0};  // successful
  der::AppendTlv(resp, der::ContextTag(0, true), der::Wrap(der::kSequence, bytes));
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.signatures;
  }
  return der::Wrap(der::kSequence, resp);
}

}  // namespace certvault::ca
