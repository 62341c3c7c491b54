// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// CleansingAllocator: allocates through OpenSSL's secure heap and wipes on
// free (Botan's secure_vector). While no secure heap is initialized this is
// plain malloc plus OPENSSL_cleanse. Once one is (CRYPTO_secure_malloc_init:
// always in the CLI, and in the module with `secure_heap_kib` set, see
// docs/config.md), secrets live in locked memory excluded from core dumps --
// together with the private key parts OpenSSL itself puts there. When the
// secure heap is full, allocation falls back to the normal heap (still wiped).
// SecureVector is the container of attribute values and other bytes that may
// be secret.
#ifndef CERTVAULT_BASE_SECURE_ALLOCATOR_H_
#define CERTVAULT_BASE_SECURE_ALLOCATOR_H_

#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace certvault {

template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() noexcept = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT

  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    void* p = CRYPTO_secure_malloc(n * sizeof(T), __FILE__, __LINE__);
    if (p == nullptr) p = CRYPTO_malloc(n * sizeof(T), __FILE__, __LINE__);  // secure heap full
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    // Cleanses, then frees from whichever heap `p` came from.
    CRYPTO_secure_clear_free(p, n * sizeof(T), __FILE__, __LINE__);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
};

// SecureVector: bytes that are wiped when freed (including on reallocation).
using SecureVector = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

}  // namespace certvault

#endif  // CERTVAULT_BASE_SECURE_ALLOCATOR_H_
