// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault's vendor-defined PKCS#11 attributes (base spec §3.4: values at or
// above CKA_VENDOR_DEFINED are "permanently reserved for token vendors").
// The ones a PKCS#11 client may see are CKA_VENDOR_DEFINED | 0x004356xx
// ("CV"), documented in docs/design/attributes.md ("Key lifecycle"); their
// numbers never change. Bit 0x40000000 (CKF_ARRAY_ATTRIBUTE, §4.1) stays
// clear: clients and our own boundary read it as "an attribute array".
#ifndef CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_
#define CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_

#include <cstdint>

#include "src/model/pkcs11_constants.h"

namespace certvault {

// CKA_CV_KEY_STATE (CK_ULONG): the key's SP 800-57 Part 1 §7 state, one of
// the CKV_CV_STATE_* values below. Keys only. Readable; settable in a
// creation template (pre-activation or active only); changed afterwards only
// by a state transition (C_SetAttributeValue with this attribute alone, or
// with CKA_CV_KEY_STATE_REASON), never by other attribute writes.
inline constexpr uint64_t kCkaCvKeyState = CKA_VENDOR_DEFINED | 0x00435601UL;
// CKA_CV_KEY_STATE_TIME (CK_ULONG): when the key entered its state, in
// seconds since 1970-01-01T00:00:00Z. Read-only.
inline constexpr uint64_t kCkaCvKeyStateTime = CKA_VENDOR_DEFINED | 0x00435602UL;
// CKA_CV_KEY_STATE_REASON (UTF-8 bytes, at most 256): why the key entered
// its state; empty if none was given. Given only together with a transition.
inline constexpr uint64_t kCkaCvKeyStateReason = CKA_VENDOR_DEFINED | 0x00435603UL;

// CKA_CV_VAULT_ROLE (CK_ULONG): marks the vault's own objects (issue 14,
// docs/design/provisioning.md): its identity and transport keys and
// certificates, the pinned provisioning authority and the provisioning
// state. Set only by the vault, never by a template; readable on keys. Such
// objects are not modifiable, copyable or destroyable and their keys have no
// capability attribute set, so no PKCS#11 or provider call can use them.
inline constexpr uint64_t kCkaCvVaultRole = CKA_VENDOR_DEFINED | 0x00435610UL;
inline constexpr uint64_t kCvRoleIdentityKey = 1;        // private key, P-256
inline constexpr uint64_t kCvRoleIdentityPublic = 2;
inline constexpr uint64_t kCvRoleIdentityCert = 3;
inline constexpr uint64_t kCvRoleTransportKey = 4;       // private key, P-256 (ECDH)
inline constexpr uint64_t kCvRoleTransportPublic = 5;
inline constexpr uint64_t kCvRoleTransportCert = 6;      // issued by the identity key
inline constexpr uint64_t kCvRoleAuthority = 7;          // pinned provisioning authority (vendor mode)
inline constexpr uint64_t kCvRoleState = 8;              // CKO_DATA: update counter and nonces
// CKA_CV_PROVENANCE (CK_ULONG): how a private key came into the vault, one of
// the CKV_CV_PROVENANCE_* values; absent for keys stored before issue 14.
// Read-only, set by the vault.
inline constexpr uint64_t kCkaCvProvenance = CKA_VENDOR_DEFINED | 0x00435611UL;
inline constexpr uint64_t kCvProvenanceGenerated = 1;
inline constexpr uint64_t kCvProvenanceImported = 2;
inline constexpr uint64_t kCvProvenanceProvisioned = 3;  // delivered in an update package

// CKA_CV_QUORUM_PROTECTED (CK_BBOOL): the key is under its token's k-of-n
// quorum (issue 16, docs/design/quorum.md, "Quorum-protected keys"): it was
// created through an approved `create-key` operation, it is destroyed only
// through an approved `destroy-key` one, and no PKCS#11 call may modify,
// copy or destroy it. Set only by the vault (never by a template), never
// cleared; readable on keys.
inline constexpr uint64_t kCkaCvQuorumProtected = CKA_VENDOR_DEFINED | 0x00435612UL;
// CKA_CV_QUORUM_OP (UTF-8 bytes, the 32 hex digits of an operation id): in a
// C_GenerateKeyPair / C_GenerateKey template only, asks for a quorum-
// protected key under that approved `create-key` operation. Never stored.
inline constexpr uint64_t kCkaCvQuorumOp = CKA_VENDOR_DEFINED | 0x00435613UL;

// CKM_CV_QUORUM (vendor mechanism, CKM_VENDOR_DEFINED | 0x00435601): listed
// by C_GetMechanismList only for a token with a k-of-n quorum (issue 16,
// docs/design/quorum.md "Knowing that a token has a quorum"), so that an
// application (certvault-ca init / rollover) can find out through PKCS#11
// that its keys belong under the quorum. C_GetMechanismInfo gives
// ulMinKeySize = k, ulMaxKeySize = n, flags 0: no function accepts it.
inline constexpr uint64_t kCkmCvQuorum = CKM_VENDOR_DEFINED | 0x00435601UL;

// CKV_CV_STATE_*: the values of CKA_CV_KEY_STATE. 0 is never a state.
inline constexpr uint64_t kCvStatePreActivation = 1;
inline constexpr uint64_t kCvStateActive = 2;
inline constexpr uint64_t kCvStateSuspended = 3;
inline constexpr uint64_t kCvStateDeactivated = 4;
inline constexpr uint64_t kCvStateCompromised = 5;
inline constexpr uint64_t kCvStateDestroyed = 6;

}  // namespace certvault

#endif  // CERTVAULT_MODEL_VENDOR_ATTRIBUTES_H_
