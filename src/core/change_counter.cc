// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "src/core/change_counter.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace certvault::core {
namespace {

constexpr size_t kMapSize = 4096;  // one page; the counter is its first 8 bytes

static_assert(std::atomic<uint64_t>::is_always_lock_free, "the shared counter must be lock-free across processes");

}  // namespace

ChangeCounter::ChangeCounter(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  struct stat st;
  // Grow a new (or truncated) file to one page; zero-filled, so the counter starts at 0.
  bool sized = ::fstat(fd, &st) == 0 && (st.st_size >= static_cast<off_t>(kMapSize) ||
                                         ::ftruncate(fd, kMapSize) == 0);
  void* map = sized ? ::mmap(nullptr, kMapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
  ::close(fd);  // the mapping stays valid
  if (map == MAP_FAILED) return;
  map_ = map;
  shared_ = static_cast<std::atomic<uint64_t>*>(map);
}

ChangeCounter::~ChangeCounter() {
  if (map_ != nullptr) ::munmap(map_, kMapSize);
}

uint64_t ChangeCounter::Load() const {
  if (shared_ != nullptr) return shared_->load(std::memory_order_acquire);
  return fallback_.fetch_add(1, std::memory_order_relaxed) + 1;  // never equal twice: always revalidate
}

void ChangeCounter::Bump() {
  if (shared_ != nullptr) shared_->fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace certvault::core
