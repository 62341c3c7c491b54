// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CMP envelope: the few fields of a PKIMessage (RFC 4210 §5.1, RFC 9483
// §3.1) that `certvault-ca serve` needs before OpenSSL's CMP server runs and
// that OpenSSL 3.0 has no accessor for: the protection algorithm (PBM or a
// signature), senderKID (the enrollment code id of a MAC-protected ir), the
// transactionID, the body type and extraCerts (RFC 9483 §3.3: the first is
// the CMP protection certificate). Read with the bounds-checked DerReader
// from the request bytes; the message itself is decoded, verified and
// answered by OpenSSL (d2i_OSSL_CMP_MSG, OSSL_CMP_SRV_process_request).
// Also the CRMF CertTemplate's publicKey (RFC 4211 §5; OpenSSL 3.0 has no
// OSSL_CRMF_CERTTEMPLATE_get0_publicKey, 3.2 has) and an rr's CRLReason.
// Failures: kInvalidArgument for malformed DER.
#ifndef CERTVAULT_CA_CMP_CMP_ENVELOPE_H_
#define CERTVAULT_CA_CMP_CMP_ENVELOPE_H_

#include <openssl/crmf.h>

#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca::cmp {

// Body: the PKIBody CHOICE indices (RFC 4210 §5.1.2) that OpenSSL 3.0
// keeps private (OSSL_CMP_MSG_get_bodytype returns them).
enum Body : int {
  kIr = 0,
  kIp = 1,
  kCr = 2,
  kCp = 3,
  kP10cr = 4,
  kKur = 7,
  kKup = 8,
  kRr = 11,
  kRp = 12,
  kPkiConf = 19,
  kGenm = 21,
  kGenp = 22,
  kError = 23,
  kCertConf = 24,
  kPollReq = 25,
};

struct Envelope {
  int body_type = -1;       // the PKIBody CHOICE index (Body)
  bool pbm = false;         // protectionAlg is id-PasswordBasedMac (RFC 4210 §5.1.3.1)
  bool protected_ = false;  // protectionAlg present
  Bytes sender_kid;
  Bytes transaction_id;
  std::span<const uint8_t> body;   // the body's contents (inside its [n] tag), into the input
  std::vector<Bytes> extra_certs;  // DER certificates, in order
};

// DecodeEnvelope: `der` must be exactly one PKIMessage.
Result<Envelope> DecodeEnvelope(std::span<const uint8_t> der);

// TemplateSpki: the DER SubjectPublicKeyInfo of a CertTemplate (its
// publicKey [6] IMPLICIT, re-tagged as a SEQUENCE). kInvalidArgument when
// the template has none or is malformed.
Result<Bytes> TemplateSpki(const OSSL_CRMF_CERTTEMPLATE* tmpl);

// RevocationReason: the CRLReason (RFC 5280 §5.3.1) in the crlEntryDetails
// of the first RevDetails of an rr body (Envelope::body), 0 (unspecified)
// when absent; kInvalidArgument for a malformed body.
Result<int> RevocationReason(std::span<const uint8_t> rr_body);

}  // namespace certvault::ca::cmp

#endif  // CERTVAULT_CA_CMP_CMP_ENVELOPE_H_
