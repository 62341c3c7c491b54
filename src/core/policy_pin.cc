// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/policy_pin.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "src/base/byte_reader.h"
#include "src/base/status_macros.h"
#include "src/crypto/mac.h"

namespace certvault::core {
namespace {

constexpr char kLabel[] = "certvault quorum policy v1";

std::string PinName(storage::TokenId token) { return "quorum/" + std::to_string(token) + "/policy"; }

Result<crypto::MacTag> PinMac(const SecretBytes& token_key, storage::TokenId token, const Bytes& digest) {
  CV_ASSIGN_OR_RETURN(SecretBytes key, crypto::HkdfSha256(token_key, kLabel, 32));
  Bytes id;
  ByteWriter<Bytes>(&id).WriteU64(token);
  return crypto::HmacSha256(key, {AsSpan(kLabel), id, digest});
}

}  // namespace

Result<Bytes> PolicyDigest(const std::string& policy_path) {
  Bytes text;
  if (!policy_path.empty()) {
    std::ifstream in(policy_path, std::ios::binary);
    if (!in) return UnavailableError("cannot read the policy " + policy_path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  Bytes md(32);
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), md.data(), &n, EVP_sha256(), nullptr) != 1 || n != 32) {
    return InternalError("EVP_Digest");
  }
  return md;
}

Status PinPolicy(storage::Store& store, storage::TokenId token, const SecretBytes& token_key, const Bytes& digest) {
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, PinMac(token_key, token, digest));
  Bytes row = digest;
  row.insert(row.end(), mac.begin(), mac.end());
  return store.PutMetaRow(PinName(token), row);
}

Status CheckPolicyPin(storage::Store& store, storage::TokenId token, const SecretBytes& token_key,
                      const Bytes& digest) {
  Result<Bytes> row = store.GetMetaRow(PinName(token));
  if (!row.ok()) return OkStatus();  // no pin: the token has no quorum (or predates this)
  if (row->size() != 64) return Status(Reason::kCorruptStore, "the token's policy pin is malformed");
  CV_ASSIGN_OR_RETURN(crypto::MacTag mac, PinMac(token_key, token, Bytes(row->begin(), row->begin() + 32)));
  if (!crypto::MacEqual(mac, std::span<const uint8_t>(*row).subspan(32))) {
    return Status(Reason::kCorruptStore, "the token's policy pin does not verify");
  }
  if (!std::equal(digest.begin(), digest.end(), row->begin())) {
    return Status(Reason::kActionProhibited,
                  "the vault's policy is not the one this token's quorum approved: approve it with certvault quorum "
                  "policy --op ID (an approved `policy` operation), or restore the approved policy file");
  }
  return OkStatus();
}

}  // namespace certvault::core
