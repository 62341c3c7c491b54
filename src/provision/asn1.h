// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The ASN.1 types of docs/formats/update-package.md, as OpenSSL ASN.1
// templates (asn1.cc). Internal to src/provision: callers use provision.h.
#ifndef CERTVAULT_PROVISION_ASN1_H_
#define CERTVAULT_PROVISION_ASN1_H_

#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include "src/crypto/ossl_ptr.h"

extern "C" {

// OpenSSL declares no stack functions for this type: sk_PKCS8_PRIV_KEY_INFO_*.
DEFINE_STACK_OF(PKCS8_PRIV_KEY_INFO)

// UpdateRequest ::= SEQUENCE {
//   version INTEGER (1), tokenSerial UTF8String, counter INTEGER,
//   nonce OCTET STRING, transportCertificate Certificate,
//   label [0] EXPLICIT UTF8String OPTIONAL }
typedef struct cv_update_request_st {
  ASN1_INTEGER* version;
  ASN1_UTF8STRING* token_serial;
  ASN1_INTEGER* counter;
  ASN1_OCTET_STRING* nonce;
  X509* transport_cert;
  ASN1_UTF8STRING* label;
} CV_UPDATE_REQUEST;
DECLARE_ASN1_FUNCTIONS(CV_UPDATE_REQUEST)

// UpdateOperation ::= SEQUENCE {      -- UpdateContent version 2
//   kind INTEGER { deliverKey(1), renewCertificate(2), deleteKey(3), setCapacity(4) },
//   keyId [0] IMPLICIT OCTET STRING OPTIONAL,   -- renewCertificate, deleteKey
//   capacity [1] IMPLICIT INTEGER OPTIONAL }    -- setCapacity
typedef struct cv_update_operation_st {
  ASN1_INTEGER* kind;
  ASN1_OCTET_STRING* key_id;
  ASN1_INTEGER* capacity;
} CV_UPDATE_OPERATION;
DECLARE_ASN1_FUNCTIONS(CV_UPDATE_OPERATION)

// WrappedKey ::= SEQUENCE {         -- UpdateContent version 3
//   version INTEGER (1),
//   originator SubjectPublicKeyInfo,   -- ephemeral P-256 key of the key agreement
//   wrapped OCTET STRING }             -- AES-256 key wrap with padding (RFC 5649) of the PKCS#8
typedef struct cv_wrapped_key_st {
  ASN1_INTEGER* version;
  X509_PUBKEY* originator;
  ASN1_OCTET_STRING* wrapped;
} CV_WRAPPED_KEY;
DECLARE_ASN1_FUNCTIONS(CV_WRAPPED_KEY)
DEFINE_STACK_OF(CV_WRAPPED_KEY)

// UpdateContent ::= SEQUENCE {  -- the plaintext inside AuthEnvelopedData
//   version INTEGER (1 | 2 | 3), label UTF8String,
//   keys AsymmetricKeyPackage,          -- RFC 5958 §2: SEQUENCE OF OneAsymmetricKey
//   certificates SEQUENCE OF Certificate,
//   operation [0] EXPLICIT UpdateOperation OPTIONAL,   -- present iff version 2
//   wrappedKeys [1] IMPLICIT SEQUENCE OF WrappedKey OPTIONAL }  -- present iff version 3
typedef struct cv_update_content_st {
  ASN1_INTEGER* version;
  ASN1_UTF8STRING* label;
  STACK_OF(PKCS8_PRIV_KEY_INFO)* keys;
  STACK_OF(X509)* certificates;
  CV_UPDATE_OPERATION* operation;
  STACK_OF(CV_WRAPPED_KEY)* wrapped_keys;
} CV_UPDATE_CONTENT;
DECLARE_ASN1_FUNCTIONS(CV_UPDATE_CONTENT)

// UpdateReceipt ::= SEQUENCE {
//   version INTEGER (1), tokenSerial UTF8String, counter INTEGER,
//   packageHash OCTET STRING (SHA-256 of the package DER),
//   keyId OCTET STRING, result UTF8String }
typedef struct cv_update_receipt_st {
  ASN1_INTEGER* version;
  ASN1_UTF8STRING* token_serial;
  ASN1_INTEGER* counter;
  ASN1_OCTET_STRING* package_hash;
  ASN1_OCTET_STRING* key_id;
  ASN1_UTF8STRING* result;
} CV_UPDATE_RECEIPT;
DECLARE_ASN1_FUNCTIONS(CV_UPDATE_RECEIPT)

// KeyAttestation ::= SEQUENCE {  -- extension arc.4.1 of an attestation certificate
//   version INTEGER (1), origin INTEGER (1 generated | 2 imported | 3 provisioned),
//   neverExtractable BOOLEAN, alwaysSensitive BOOLEAN,
//   tokenSerial UTF8String, softwareVersion UTF8String }
typedef struct cv_key_attestation_st {
  ASN1_INTEGER* version;
  ASN1_INTEGER* origin;
  ASN1_BOOLEAN never_extractable;
  ASN1_BOOLEAN always_sensitive;
  ASN1_UTF8STRING* token_serial;
  ASN1_UTF8STRING* software_version;
} CV_KEY_ATTESTATION;
DECLARE_ASN1_FUNCTIONS(CV_KEY_ATTESTATION)

// Certificates ::= SEQUENCE OF Certificate  -- CSR attribute cvKeyAttestationChain
DECLARE_ASN1_ITEM(CV_CERT_SEQUENCE)

}  // extern "C"

namespace certvault::ossl {
CV_OSSL_DELETER(CV_KEY_ATTESTATION, CV_KEY_ATTESTATION_free)
CV_OSSL_DELETER(CV_UPDATE_REQUEST, CV_UPDATE_REQUEST_free)
CV_OSSL_DELETER(CV_UPDATE_CONTENT, CV_UPDATE_CONTENT_free)
CV_OSSL_DELETER(CV_UPDATE_OPERATION, CV_UPDATE_OPERATION_free)
CV_OSSL_DELETER(CV_UPDATE_RECEIPT, CV_UPDATE_RECEIPT_free)
CV_OSSL_DELETER(CV_WRAPPED_KEY, CV_WRAPPED_KEY_free)
}  // namespace certvault::ossl

#endif  // CERTVAULT_PROVISION_ASN1_H_
