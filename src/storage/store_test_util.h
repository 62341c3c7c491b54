// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Test helpers for the store tests: a temporary vault directory and row
// builders.
#ifndef CERTVAULT_STORAGE_STORE_TEST_UTIL_H_
#define CERTVAULT_STORAGE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "src/storage/store.h"

namespace certvault::storage::testing {

// TempDir: a fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cv_storage_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<Store> MustOpen(const std::string& path, bool create = true) {
  StoreOptions options;
  options.create_if_missing = create;
  Result<std::unique_ptr<Store>> store = OpenStore(path, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

inline TokenRow Token(TokenId id, const std::string& label = "token") {
  TokenRow row;
  row.token_id = id;
  row.label = label;
  row.serial = "0123456789abcdef";
  row.flags = 0x8000000000000001ull;  // the high bit round-trips through INTEGER
  row.capacity = 100;
  row.policy = {1, 2, 3};
  row.created_unix = 1700000000;
  return row;
}

inline AuthRow Auth(TokenId id, Role role, uint32_t tries = 3) {
  return AuthRow{id, role, {0x10, 0x20}, {0xaa, 0xbb, 0xcc}, tries, tries, 0};
}

inline ObjectRow Object(ObjectId id, TokenId token, uint64_t cls, const std::string& label, Bytes ckid = {},
                        bool is_private = false) {
  ObjectRow row;
  row.object_id = id;
  row.token_id = token;
  row.object_class = cls;
  row.label = ToBytes(label);
  row.ckid = std::move(ckid);
  row.is_private = is_private;
  row.record = {'C', 'V', 'R', 1, 0, 0, 0, 0};
  return row;
}

}  // namespace certvault::storage::testing

#endif  // CERTVAULT_STORAGE_STORE_TEST_UTIL_H_
