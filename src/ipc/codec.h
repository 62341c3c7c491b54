// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Codec: the body encoding of every IPC field type (docs/formats/ipc.md).
// Put(Encoder&, const T&) appends a field; Get(Decoder&, T*) reads one and
// returns false on any malformed input (truncation, a bad tag, an unsorted
// attribute set, a count over what the bytes can hold); it never reads past
// the body. Spans decoded by Get view the frame buffer (no copy): they live
// as long as the buffer is unchanged.
//
// Integers are big-endian; byte strings are u32 length + bytes; counts are
// u32 and each decoded element needs at least one byte, so a count cannot
// make the decoder allocate more than the frame holds.
#ifndef CERTVAULT_IPC_CODEC_H_
#define CERTVAULT_IPC_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "src/base/byte_reader.h"
#include "src/base/secret_bytes.h"
#include "src/base/status.h"
#include "src/core/backend.h"
#include "src/ipc/wire.h"
#include "src/model/types.h"

namespace certvault::ipc {

using Encoder = ByteWriter<WireBuffer>;
using Decoder = ByteReader;

// OutSpec: how a client's OutBuf travels: a length query (no buffer) or a
// buffer of `capacity` bytes. The response carries the needed/written length
// and, after a successful non-query call, the bytes.
struct OutSpec {
  bool has_buffer = false;
  uint64_t capacity = 0;
};

void Put(Encoder& e, uint64_t v);
void Put(Encoder& e, uint32_t v);
void Put(Encoder& e, bool v);
void Put(Encoder& e, std::string_view v);
void Put(Encoder& e, std::span<const uint8_t> v);
void Put(Encoder& e, const SecretBytes& v);
void Put(Encoder& e, const Status& v);
void Put(Encoder& e, UserType v);
void Put(Encoder& e, Backend::OperationKind v);
void Put(Encoder& e, const Backend::TokenOptions& v);
void Put(Encoder& e, const Backend::KeyPair& v);
void Put(Encoder& e, const OutSpec& v);
void Put(Encoder& e, const AttributeSet& v);
void Put(Encoder& e, const Mechanism& v);
void Put(Encoder& e, const MechanismInfo& v);
void Put(Encoder& e, const SlotInfo& v);
void Put(Encoder& e, const TokenInfo& v);
void Put(Encoder& e, const SessionInfo& v);
void Put(Encoder& e, const std::vector<uint64_t>& v);
void Put(Encoder& e, const std::vector<MechanismInfo>& v);
// Attribute requests: the request side carries the types only; the reply
// carries each request's reason and value.
void PutAttributeTypes(Encoder& e, const std::vector<AttributeRequest>& v);
void PutAttributeReplies(Encoder& e, const std::vector<AttributeRequest>& v);

[[nodiscard]] bool Get(Decoder& d, uint64_t* v);
[[nodiscard]] bool Get(Decoder& d, uint32_t* v);
[[nodiscard]] bool Get(Decoder& d, bool* v);
[[nodiscard]] bool Get(Decoder& d, std::string* v);
[[nodiscard]] bool Get(Decoder& d, std::span<const uint8_t>* v);
[[nodiscard]] bool Get(Decoder& d, SecretBytes* v);
[[nodiscard]] bool Get(Decoder& d, Status* v);
[[nodiscard]] bool Get(Decoder& d, UserType* v);
[[nodiscard]] bool Get(Decoder& d, Backend::OperationKind* v);
[[nodiscard]] bool Get(Decoder& d, Backend::TokenOptions* v);
[[nodiscard]] bool Get(Decoder& d, Backend::KeyPair* v);
[[nodiscard]] bool Get(Decoder& d, OutSpec* v);
[[nodiscard]] bool Get(Decoder& d, AttributeSet* v);
[[nodiscard]] bool Get(Decoder& d, Mechanism* v);
[[nodiscard]] bool Get(Decoder& d, MechanismInfo* v);
[[nodiscard]] bool Get(Decoder& d, SlotInfo* v);
[[nodiscard]] bool Get(Decoder& d, TokenInfo* v);
[[nodiscard]] bool Get(Decoder& d, SessionInfo* v);
[[nodiscard]] bool Get(Decoder& d, std::vector<uint64_t>* v);
[[nodiscard]] bool Get(Decoder& d, std::vector<MechanismInfo>* v);
[[nodiscard]] bool GetAttributeTypes(Decoder& d, std::vector<AttributeRequest>* v);
// GetAttributeReplies: REQUIRES `v` holds the requests sent; the reply must
// have the same count.
[[nodiscard]] bool GetAttributeReplies(Decoder& d, std::vector<AttributeRequest>* v);

// PutAll / GetAll: several fields in order. GetAll also requires that the
// body is fully consumed.
template <typename... T>
void PutAll(Encoder& e, const T&... v) {
  (Put(e, v), ...);
}
template <typename... T>
[[nodiscard]] bool GetFields(Decoder& d, T*... v) {
  return (Get(d, v) && ...);
}
template <typename... T>
[[nodiscard]] bool GetAll(Decoder& d, T*... v) {
  return GetFields(d, v...) && d.empty();
}

}  // namespace certvault::ipc

#endif  // CERTVAULT_IPC_CODEC_H_
