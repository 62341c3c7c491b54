// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault's OIDs (docs/formats/update-package.md, "Object identifiers").
#include <openssl/objects.h>

#include <mutex>
#include <string>

#include "src/crypto/ossl_error.h"
#include "src/provision/provision.h"

namespace certvault::provision {
namespace {

int Register(const char* suffix, const char* name) {
  std::string oid = std::string(kOidArc) + suffix;
  int nid = OBJ_txt2nid(oid.c_str());
  if (nid != NID_undef) return nid;
  return OBJ_create(oid.c_str(), name, name);
}

Nids MakeNids() {
  Nids n;
  n.ct_request = Register(".1.1", "cvUpdateRequest");
  n.ct_package = Register(".1.2", "cvUpdatePackage");
  n.ct_receipt = Register(".1.3", "cvUpdateReceipt");
  n.aa_target_serial = Register(".2.1", "cvTargetSerial");
  n.aa_counter = Register(".2.2", "cvUpdateCounter");
  n.aa_nonce = Register(".2.3", "cvRequestNonce");
  n.aa_expiry = Register(".2.4", "cvPackageExpiry");
  n.kp_provisioning = Register(".3.1", "cvProvisioning");
  n.kp_vault_identity = Register(".3.2", "cvVaultIdentity");
  n.ext_attestation = Register(".4.1", "cvKeyAttestation");
  n.attr_attestation_chain = Register(".4.2", "cvKeyAttestationChain");
  return n;
}

}  // namespace

Result<const Nids*> GetNids() {
  static std::once_flag once;
  static Nids nids;
  std::call_once(once, [] { nids = MakeNids(); });
  for (int nid : {nids.ct_request, nids.ct_package, nids.ct_receipt, nids.aa_target_serial, nids.aa_counter,
                  nids.aa_nonce, nids.aa_expiry, nids.kp_provisioning, nids.kp_vault_identity,
                  nids.ext_attestation, nids.attr_attestation_chain}) {
    if (nid == NID_undef) return ossl::OpenSslError("OBJ_create");
  }
  return &nids;
}

}  // namespace certvault::provision
