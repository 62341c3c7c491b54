// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The general-message contents of RFC 9483 §4.3.2 (root CA key update) and
// §4.3.4 (CRL update retrieval) that OpenSSL 3.0 has no ASN.1 types for
// (3.2 added RootCaKeyUpdateContent, 3.4 CRLStatus). They are defined with
// OpenSSL's ASN.1 template macros (cmp_genm.cc), so OpenSSL encodes and
// decodes them; no DER is written by hand. The ASN.1, from RFC 9480 §2.3
// and §2.4 (module PKIXCMP-2021, EXPLICIT TAGS):
//
//   RootCaKeyUpdateContent ::= SEQUENCE {
//      newWithNew  CMPCertificate,
//      newWithOld  [0] CMPCertificate OPTIONAL,
//      oldWithNew  [1] CMPCertificate OPTIONAL }
//   CRLSource ::= CHOICE { dpn [0] DistributionPointName, issuer [1] GeneralNames }
//   CRLStatus ::= SEQUENCE { source CRLSource, thisUpdate Time OPTIONAL }
//   CRLStatusListValue ::= SEQUENCE SIZE (1..MAX) OF CRLStatus
//   CRLsValue ::= SEQUENCE SIZE (1..MAX) OF CertificateList
//
// Decoders return kInvalidArgument for malformed or trailing input.
#ifndef CERTVAULT_CA_CMP_CMP_GENM_H_
#define CERTVAULT_CA_CMP_CMP_GENM_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "src/base/bytes.h"
#include "src/base/result.h"

namespace certvault::ca::cmp {

// RFC 9480 §2.3 / §2.4 (id-it 17 is rootCaKeyUpdate's original OID of
// RFC 4210 §5.3.19.x; RFC 9483 §4.3.2 asks with rootCaCert and answers with
// rootCaKeyUpdate).
inline constexpr char kOidRootCaKeyUpdate[] = "1.3.6.1.5.5.7.4.18";
inline constexpr char kOidRootCaCert[] = "1.3.6.1.5.5.7.4.20";
inline constexpr char kOidCrlStatusList[] = "1.3.6.1.5.5.7.4.22";
inline constexpr char kOidCrls[] = "1.3.6.1.5.5.7.4.23";

// RootCaKeyUpdate: DER certificates; the link certificates may be empty.
struct RootCaKeyUpdate {
  Bytes new_with_new;
  Bytes new_with_old;
  Bytes old_with_new;
};
Result<Bytes> EncodeRootCaKeyUpdate(const RootCaKeyUpdate& update);
Result<RootCaKeyUpdate> DecodeRootCaKeyUpdate(std::span<const uint8_t> der);

// CrlStatus: what a client says it has. `dpn_uris`: the URIs of a dpn
// fullName; `issuers`: DER X509_NAMEs of directoryName entries of an issuer
// source (other name forms are skipped); `this_update`: seconds since the
// epoch, absent if the client has no CRL of that source.
struct CrlStatus {
  std::vector<std::string> dpn_uris;
  std::vector<Bytes> issuers;
  std::optional<int64_t> this_update;
};
// EncodeCrlStatusList: each status with exactly one of dpn_uris / issuers
// non-empty; kInvalidArgument otherwise or for an empty list.
Result<Bytes> EncodeCrlStatusList(const std::vector<CrlStatus>& list);
Result<std::vector<CrlStatus>> DecodeCrlStatusList(std::span<const uint8_t> der);

// EncodeCrls / DecodeCrls: CRLsValue of DER CRLs (at least one).
Result<Bytes> EncodeCrls(const std::vector<Bytes>& crls);
Result<std::vector<Bytes>> DecodeCrls(std::span<const uint8_t> der);

}  // namespace certvault::ca::cmp

#endif  // CERTVAULT_CA_CMP_CMP_GENM_H_
