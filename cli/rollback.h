// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// Rollback: all-or-nothing object creation for the CLI's verbs (import-cert,
// import-p12, enroll): objects recorded are destroyed again unless Commit().
#ifndef CERTVAULT_CLI_ROLLBACK_H_
#define CERTVAULT_CLI_ROLLBACK_H_

#include <vector>

#include "cli/vault.h"

namespace certvault::cli {

// Rollback: destroys the objects it recorded unless Commit() is called.
class Rollback {
 public:
  explicit Rollback(Session* session) : session_(session) {}
  ~Rollback() {
    for (ObjectHandle h : created_) (void)session_->backend()->DestroyObject(session_->handle(), h);
  }
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  void Add(ObjectHandle h) { created_.push_back(h); }
  void Commit() { created_.clear(); }

 private:
  Session* session_;
  std::vector<ObjectHandle> created_;
};

}  // namespace certvault::cli

#endif  // CERTVAULT_CLI_ROLLBACK_H_
