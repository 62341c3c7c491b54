// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CleansingAllocator: a std::allocator that wipes memory with OPENSSL_cleanse
// before freeing it (Botan's secure_vector). SecureVector is the container of
// attribute values and other bytes that may be secret.
#ifndef CERTVAULT_BASE_SECURE_ALLOCATOR_H_
#define CERTVAULT_BASE_SECURE_ALLOCATOR_H_

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace certvault {

template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() noexcept = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT

  T* allocate(size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, size_t n) noexcept {
    if (p != nullptr) OPENSSL_cleanse(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
};

// SecureVector: bytes that are wiped when freed (including on reallocation).
using SecureVector = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

}  // namespace certvault

#endif  // CERTVAULT_BASE_SECURE_ALLOCATOR_H_
