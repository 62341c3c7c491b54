// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The EST request decoding of `certvault-ca serve` (ca/est/est_codec.cc):
// input = path '\n' Authorization '\n' body. Invariants: a decoded body is
// within its bound and survives a re-encoding unchanged; a parsed path
// names its operation again; the CSR intake never crashes on what the
// body decoder lets through.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ca/est/est_codec.h"
#include "ca/issuance/csr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace certvault::ca;  // NOLINT(build/namespaces)
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl1 = in.find('\n');
  std::string_view path = in.substr(0, nl1);
  std::string_view rest = nl1 == std::string_view::npos ? std::string_view() : in.substr(nl1 + 1);
  size_t nl2 = rest.find('\n');
  std::string_view auth = rest.substr(0, nl2);
  std::string_view body = nl2 == std::string_view::npos ? std::string_view() : rest.substr(nl2 + 1);

  if (auto p = est::ParseEstPath(path); p.ok()) {
    std::string again = std::string(est::kPrefix) + (p->label.empty() ? "" : p->label + "/") +
                        std::string(est::OperationName(p->op));
    if (again != path) std::abort();
  }
  std::string id;
  certvault::SecretBytes password;
  if (est::ParseBasicAuth(auth, id, password) && (id.empty() || password.size() == 0)) std::abort();

  constexpr size_t kMax = 8192;
  auto decoded = est::DecodeBase64Body({reinterpret_cast<const uint8_t*>(body.data()), body.size()}, kMax);
  if (!decoded.ok()) return 0;
  if (decoded->empty() || decoded->size() > kMax) std::abort();
  std::string b64 = est::EncodeBase64(*decoded);
  auto again = est::DecodeBase64Body({reinterpret_cast<const uint8_t*>(b64.data()), b64.size()}, kMax);
  if (!again.ok() || *again != *decoded) std::abort();
  (void)ParseCsr(*decoded, kMax);
  return 0;
}
