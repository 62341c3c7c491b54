// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// KeyGenerations: which generation of the root key and of the issuing key
// (with its OCSP signer) is current in a CA instance. Generation 1 is what
// `init` made: token labels "<name>-root", "<name>-issuing", "<name>-ocsp",
// files root.pem, issuing.pem, ocsp.pem. Generation N > 1 (made by
// `certvault-ca rollover`) appends "-gN" to each: "<name>-issuing-g2",
// issuing-g2.pem, CRLs full-g2.crl. Every older generation is retired: it
// issues nothing but keeps signing CRLs and OCSP answers for what it issued.
//
// The file DIR/generations holds the current numbers; rewriting it (atomic
// rename) is the commit point of a rollover. Absent: both are 1 (an instance
// made before rollovers existed, or never rolled).
#ifndef CERTVAULT_CA_INSTANCE_GENERATIONS_H_
#define CERTVAULT_CA_INSTANCE_GENERATIONS_H_

#include <cstdint>
#include <string>

#include "src/base/result.h"

namespace certvault::ca {

struct KeyGenerations {
  uint32_t root = 1;
  uint32_t issuing = 1;
};

// kMaxGeneration: a bound that keeps names short (labels, CRL file names).
inline constexpr uint32_t kMaxGeneration = 999;

// GenerationSuffix: "" for generation 1, "-g<N>" otherwise.
std::string GenerationSuffix(uint32_t gen);
// GenerationUrl: the URL (or file name) of generation `gen`'s CRL: the
// suffix goes before a trailing ".crl" ("full.crl" -> "full-g2.crl"), else
// at the end. Unchanged for generation 1 and for an empty URL.
std::string GenerationUrl(const std::string& url, uint32_t gen);
// ParseGenerations: the file's text. kDataLoss naming the line for anything
// but comments, blank lines, "root = N" and "issuing = N" (1 <= N <=
// kMaxGeneration), each at most once.
Result<KeyGenerations> ParseGenerations(const std::string& text);
// LoadGenerations: DIR/generations; {1, 1} when the file is absent.
Result<KeyGenerations> LoadGenerations(const std::string& dir);
// RenderGenerations / SaveGenerations: written atomically (temporary file,
// fsync, rename): a crash leaves the old or the new numbers, never a mix.
std::string RenderGenerations(const KeyGenerations& gens);
Status SaveGenerations(const std::string& dir, const KeyGenerations& gens);

}  // namespace certvault::ca

#endif  // CERTVAULT_CA_INSTANCE_GENERATIONS_H_
