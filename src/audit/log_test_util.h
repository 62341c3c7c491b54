// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Test helpers for the audit tests: a store in a temporary directory and a
// signed event log built in it.
#ifndef CERTVAULT_AUDIT_LOG_TEST_UTIL_H_
#define CERTVAULT_AUDIT_LOG_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "src/audit/audit_key.h"
#include "src/audit/event_log.h"
#include "src/crypto/random.h"
#include "src/storage/store_test_util.h"

namespace certvault::audit::testing {

using storage::testing::TempDir;

inline SecretBytes TestTokenKey(uint8_t fill) {
  SecretBytes key(32);
  for (uint8_t& b : key.MutableBytes(SecretAccess::Get())) b = fill;
  return key;
}

// NewKey: creates and stores audit key `key_no` of token 1 under `tk`.
inline std::unique_ptr<AuditSigner> NewKey(storage::Store& store, uint32_t key_no, const SecretBytes& tk) {
  storage::AuditKeyRow row;
  Result<std::unique_ptr<AuditSigner>> signer = AuditSigner::Create(1, key_no, tk, &row);
  EXPECT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_TRUE(store.InsertAuditKey(row).ok());
  return signer.ok() ? std::move(*signer) : nullptr;
}

inline Event TestEvent(int i) {
  Event e;
  e.action = i % 3 == 0 ? "login" : "generate_key_pair";
  e.target_id = 1000 + i;
  e.target_label = "key " + std::to_string(i);
  e.detail = "event " + std::to_string(i);
  return e;
}

// BuildSignedLog: `n` records on token 1, every one checkpointed; key 1
// rolls over to key 2 at record n/2 (signed by key 1, as C_InitToken does).
inline void BuildSignedLog(storage::Store& store, int n) {
  Actor actor = SelfActor();
  actor.role = "user";
  std::unique_ptr<AuditSigner> signer = NewKey(store, 1, TestTokenKey(1));
  for (int i = 1; i <= n; ++i) {
    if (i == n / 2) {
      storage::AuditKeyRow row;
      Result<std::unique_ptr<AuditSigner>> next = AuditSigner::Create(1, 2, TestTokenKey(2), &row);
      ASSERT_TRUE(next.ok());
      Event e{kKeyRollover, 0, "", "ok", *RolloverDetail(2, row.public_key)};
      ASSERT_TRUE(AppendEvent(store, 1, actor, e, signer.get()).ok());
      ASSERT_TRUE(store.InsertAuditKey(row).ok());
      signer = std::move(*next);
      continue;
    }
    ASSERT_TRUE(AppendEvent(store, 1, actor, TestEvent(i), signer.get()).ok());
  }
}

}  // namespace certvault::audit::testing

#endif  // CERTVAULT_AUDIT_LOG_TEST_UTIL_H_
