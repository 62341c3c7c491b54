// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CmpService's callbacks for OpenSSL's CMP server: issuance (ir, cr,
// p10cr, kur) through the IssueQueue, revocation (rr), certConf (genm:
// cmp_general.cc).
#include <openssl/crmf.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>

#include "ca/cmp/cmp_ptr.h"
#include "ca/der/der_writer.h"
#include "ca/issuance/csr.h"
#include "ca/server/cmp_service.h"
#include "ca/server/cmp_service_internal.h"
#include "src/base/status_macros.h"
#include "src/crypto/libctx.h"
#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::ca {

using namespace cmp_internal;  // NOLINT(build/namespaces)

OSSL_CMP_PKISI* CmpService::CertRequest(Req& r, const OSSL_CMP_MSG* req, const OSSL_CRMF_MSG* crm,
                                        const X509_REQ* p10cr, X509** cert_out, STACK_OF(X509) * *chain_out,
                                        STACK_OF(X509) * *ca_pubs) {
  Status st = IssueFor(r, req, crm, p10cr);
  if (!st.ok()) return Rejection(st, r);
  return Accept(r, cert_out, chain_out, ca_pubs, r.env.pbm);
}

// Accept: the certificate of this transaction with the issuing CA as its
// chain; for a MAC-protected ir also the root in caPubs (RFC 9483 §4.1.1:
// the trust anchor for a client that has none yet, authenticated by the MAC).
OSSL_CMP_PKISI* CmpService::Accept(Req& r, X509** cert_out, STACK_OF(X509) * *chain_out, STACK_OF(X509) * *ca_pubs,
                                   bool ir_mac) {
  const uint8_t* p = r.cert_der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(r.cert_der.size())));  // NOLINT(runtime/int)
  ossl::X509StackPtr chain(sk_X509_new_null());
  ossl::UniquePtr<X509> issuing(X509_dup(r.gen->issuing));
  if (cert == nullptr || chain == nullptr || issuing == nullptr || sk_X509_push(chain.get(), issuing.get()) <= 0) {
    return Rejection(InternalError("cannot build the answer"), r);
  }
  (void)issuing.release();  // owned by `chain`
  if (ir_mac && r.gen->root != nullptr) {
    ossl::X509StackPtr pubs(sk_X509_new_null());
    ossl::UniquePtr<X509> root(X509_dup(r.gen->root));
    if (pubs != nullptr && root != nullptr && sk_X509_push(pubs.get(), root.get()) > 0) {
      (void)root.release();       // owned by `pubs`
      *ca_pubs = pubs.release();  // owned by OpenSSL's server
    }
  }
  *cert_out = cert.release();    // owned by OpenSSL's server
  *chain_out = chain.release();  // owned by OpenSSL's server
  return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, nullptr);
}

// ProfileFor: the profile of an ir/cr/p10cr/kur and what the requester may
// ask for; fills the renewal constraints of a kur into `item`.
Status CmpService::Authorize(Req& r, int type, IssueItem& item, std::string& profile) {
  CV_RETURN_IF_ERROR(r.auth);
  std::shared_ptr<const ServerConfig> server = deps_.server();
  if (type == cmp::kKur) {
    // RFC 9483 §4.1.3: kur is protected by the certificate being updated,
    // which must be a current certificate of this CA; the subject stays.
    if (r.own.serial.empty()) return PermissionDeniedError("kur needs a current certificate of this CA");
    profile = r.own.profile;
    if (!r.label.empty() && r.label != profile) return PermissionDeniedError("key update keeps the profile");
    item.require_subject = r.own.subject;
    CV_ASSIGN_OR_RETURN(std::vector<x509::SanEntry> sans, CertificateSans(r.own.der));
    item.require_sans = std::move(sans);
    return OkStatus();
  }
  profile = r.label.empty() ? server->default_profile : r.label;
  if (profile.empty()) return NotFoundError("no profile: use /.well-known/cmp/p/<profile>");
  std::shared_ptr<const CaConfig> now = deps_.profiles ? deps_.profiles() : nullptr;  // SIGHUP may change them
  if ((now != nullptr ? *now : *deps_.ca).profiles.count(profile) == 0) return NotFoundError("unknown profile");
  if (r.env.pbm) {
    if (type != cmp::kIr) return PermissionDeniedError("MAC protection is accepted for ir only");
    const auto& allowed = server->enroll_code_profiles;
    if (std::find(allowed.begin(), allowed.end(), profile) == allowed.end()) {
      return PermissionDeniedError("enrollment codes are not accepted for this profile");
    }
    return OkStatus();
  }
  X509* s = r.signer.get();
  std::vector<std::string> granted =
      ProfilesFor(server->authorize, NameText(X509_get_issuer_name(s)), NameText(X509_get_subject_name(s)));
  if (std::find(granted.begin(), granted.end(), profile) == granted.end()) {
    return PermissionDeniedError("the protection certificate may not enroll into this profile");
  }
  return OkStatus();
}

// Replayed: a transactionID that already issued `serial`: the same
// certificate again, if it is for the same public key (RFC 9483 §3.5: a
// retransmitted request); another key gets transactionIdInUse.
Status CmpService::Replayed(Req& r, std::span<const uint8_t> spki, const std::string& serial) {
  Result<CertRecord> rec = [&] {
    std::lock_guard<std::mutex> lock(db_mu_);
    return deps_.db->FindBySerial(r.gen->ca_name, serial);
  }();
  if (!rec.ok()) return UnavailableError("database unavailable");
  const uint8_t* p = rec->der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(rec->der.size())));  // NOLINT(runtime/int)
  if (cert == nullptr) return DataLossError("stored certificate does not parse");
  Bytes have = PubkeyDer(X509_get_X509_PUBKEY(cert.get()));
  if (!std::equal(have.begin(), have.end(), spki.begin(), spki.end())) {
    return AlreadyExistsError("transactionID already used for another request");
  }
  r.cert_der = std::move(rec->der);
  r.serial = serial;
  r.issued = true;
  return OkStatus();
}

Result<CmpClaim> CmpService::Claim(Req& r, const std::string& token) {
  Result<CmpClaim> c = [&] {
    std::lock_guard<std::mutex> lock(db_mu_);
    return deps_.db->ClaimCmpTransaction(r.gen->ca_name, r.tid, token, static_cast<int64_t>(std::time(nullptr)),
                                         kClaimLeaseSeconds);
  }();
  if (!c.ok() && c.status().code() != StatusCode::kAlreadyExists) return UnavailableError("database unavailable");
  return c;
}

void CmpService::Release(Req& r, const std::string& token) {
  std::lock_guard<std::mutex> lock(db_mu_);
  (void)deps_.db->ReleaseCmpTransaction(r.gen->ca_name, r.tid, token);  // else the lease ends it
}

namespace {

// TemplateAttestation: the key attestation an ir/cr/kur carries (issue 14,
// docs/formats/update-package.md "Key attestation in a CRMF request"): the
// value of the CertTemplate extension cvKeyAttestationChain, a SEQUENCE OF
// Certificate kept whole for the Issuer's check (as the CSR attribute); empty
// if absent. The POPO signature covers the template (RFC 4211 §4.1), so the
// attestation is bound to this request. Never copied into the certificate:
// issued extensions come from the profile.
Result<Bytes> TemplateAttestation(const OSSL_CRMF_CERTTEMPLATE* tmpl) {
  CV_ASSIGN_OR_RETURN(const provision::Nids* nids, provision::GetNids());
  const STACK_OF(X509_EXTENSION)* exts = OSSL_CRMF_CERTTEMPLATE_get0_extensions(tmpl);
  int at = X509v3_get_ext_by_NID(exts, nids->attr_attestation_chain, -1);
  if (at < 0) return Bytes();
  if (X509v3_get_ext_by_NID(exts, nids->attr_attestation_chain, at) >= 0) {
    return InvalidArgumentError("the key attestation extension is repeated");
  }
  const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(X509v3_get_ext(exts, at));
  if (v == nullptr || v->length <= 0) return InvalidArgumentError("the key attestation extension is empty");
  return Bytes(v->data, v->data + v->length);
}

Result<std::string> ClaimToken() {
  uint8_t b[16];
  if (RAND_bytes_ex(crypto::LibCtx(), b, sizeof(b), 0) != 1) return ossl::OpenSslError("RAND_bytes_ex");
  return HexEncode(b);
}

}  // namespace

Status CmpService::IssueFor(Req& r, const OSSL_CMP_MSG* req, const OSSL_CRMF_MSG* crm, const X509_REQ* p10cr) {
  if (!deps_.may_sign()) return UnavailableError("the CA cannot sign now (self-test error state or clock check)");
  CV_RETURN_IF_ERROR(r.auth);
  int type = OSSL_CMP_MSG_get_bodytype(req);
  IssueItem item;
  Bytes spki;
  if (p10cr != nullptr) {
    item.csr = Der([&](unsigned char** b) { return i2d_X509_REQ(p10cr, b); });
    spki = PubkeyDer(X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(p10cr)));
  } else {
    const OSSL_CRMF_CERTTEMPLATE* tmpl = OSSL_CRMF_MSG_get0_tmpl(crm);
    if (tmpl == nullptr) return InvalidArgumentError("no certificate template");
    CV_ASSIGN_OR_RETURN(spki, cmp::TemplateSpki(tmpl));
    CV_ASSIGN_OR_RETURN(ParsedCsr parsed, ParseVerifiedRequest(spki, OSSL_CRMF_CERTTEMPLATE_get0_subject(tmpl),
                                                               OSSL_CRMF_CERTTEMPLATE_get0_extensions(tmpl)));
    CV_ASSIGN_OR_RETURN(parsed.content.attestation_chain, TemplateAttestation(tmpl));
    item.verified = std::make_shared<const ParsedCsr>(std::move(parsed));
  }
  if (r.tid.empty()) return InvalidArgumentError("no transactionID");
  CV_ASSIGN_OR_RETURN(std::string token, ClaimToken());
  CV_ASSIGN_OR_RETURN(CmpClaim claim, Claim(r, token));  // kAlreadyExists: in progress here or elsewhere
  if (!claim.claimed) return Replayed(r, spki, claim.serial);
  item.cmp_tid = r.tid;
  item.cmp_claim = token;
  Status st = IssueClaimed(r, type, std::move(item));
  // Refused (nothing committed): the transactionID may be used again. A
  // certificate that did commit has set the serial: Release keeps that row.
  if (!r.issued) Release(r, token);
  return st;
}

// IssueClaimed: authorization and issuance of a claimed transaction; the
// commit maps the transactionID to the certificate (CertRecord::cmp_tid).
Status CmpService::IssueClaimed(Req& r, int type, IssueItem item) {
  std::string profile;
  CV_RETURN_IF_ERROR(Authorize(r, type, item, profile));
  item.source = "cmp:" + std::to_string(r.id);
  auto issue = [&]() -> Status {
    Result<IssueOutcome> out = deps_.queue->Submit(std::move(item), profile);
    if (!out.ok()) return UnavailableError("the CA cannot issue now");
    CV_RETURN_IF_ERROR(out->status);
    r.cert_der = std::move(out->der);
    r.serial = out->serial;
    r.issued = true;
    return OkStatus();
  };
  if (!r.env.pbm) return issue();
  return codes_.Redeem(r.code_id, r.secret, profile, static_cast<int64_t>(std::time(nullptr)), issue);
}

// Revoke: RFC 9483 §4.2: by the certificate's own key (the protection
// certificate is the one to revoke) or by a revocation operator
// ([[server.authorize]] with revoke = true).
OSSL_CMP_PKISI* CmpService::Revoke(Req& r, const X509_NAME* issuer, const ASN1_INTEGER* serial) {
  auto run = [&]() -> Status {
    CV_RETURN_IF_ERROR(r.auth);
    if (r.signer == nullptr) return PermissionDeniedError("revocation needs signature protection");
    if (issuer == nullptr || serial == nullptr) return NotFoundError("rr must name issuer and serialNumber");
    r.serial = SerialHex(serial);
    if (r.serial.empty()) return NotFoundError("bad serialNumber");
    CV_ASSIGN_OR_RETURN(std::string ca_name, CaNameFor(*r.gen, issuer, r.serial));  // its key generation
    X509* s = r.signer.get();
    bool own_key = r.own.serial == r.serial;
    if (!own_key &&
        !MayRevoke(deps_.server()->authorize, NameText(X509_get_issuer_name(s)), NameText(X509_get_subject_name(s)))) {
      return PermissionDeniedError("only the certificate's own key or a revocation operator may revoke it");
    }
    CV_ASSIGN_OR_RETURN(int reason, cmp::RevocationReason(r.env.body));
    std::vector<Revocation> revs{{r.serial, reason, 0}};
    std::lock_guard<std::mutex> lock(db_mu_);
    return deps_.db->Revoke(ca_name, revs, static_cast<int64_t>(std::time(nullptr)), "cmp:" + r.client);
  };
  Status st = run();
  if (!st.ok()) return Rejection(st, r);
  return OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, nullptr);
}

// CertConf: RFC 4210 §5.3.18: the hash must be of the certificate issued
// in this transaction (with the digest of its signature algorithm).
bool CmpService::CertConf(Req& r, const ASN1_OCTET_STRING* cert_hash) {
  if (r.cert_der.empty()) {
    r.reason = "certConf for no open transaction";
    return false;
  }
  if (cert_hash == nullptr) return true;  // a rejection by the client carries no hash
  const uint8_t* p = r.cert_der.data();
  ossl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(r.cert_der.size())));  // NOLINT(runtime/int)
  ossl::UniquePtr<ASN1_OCTET_STRING> hash(cert != nullptr ? X509_digest_sig(cert.get(), nullptr, nullptr) : nullptr);
  if (hash == nullptr || ASN1_OCTET_STRING_cmp(hash.get(), cert_hash) != 0) {
    r.reason = "certConf hash does not match the issued certificate";
    return false;
  }
  return true;
}

}  // namespace certvault::ca
