// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// TokenTest: the common set-up of the core's tests through the Backend
// interface: an embedded backend on a vault in a fresh temporary directory
// (a cheap PIN KDF), one initialized token with an SO and a user PIN.
#ifndef CERTVAULT_CORE_TESTING_TOKEN_TEST_H_
#define CERTVAULT_CORE_TESTING_TOKEN_TEST_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "src/core/backend.h"

namespace certvault::testing {

inline constexpr char kSoPin[] = "so-pin-1234";
inline constexpr char kUserPin[] = "user-pin-1234";

inline SecretBytes Pin(std::string_view p) { return SecretBytes(p, SecretAccess::Get()); }

class TokenTest : public ::testing::Test {
 protected:
  // SetUp: the vault, with ExtraConfig() appended to its [vault] section, and
  // (unless InitsTokenItself()) the token.
  void SetUp() override {
    char tmpl[] = "/tmp/cv-core-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    conf_ = dir_ + "/certvault.conf";
    std::ofstream(conf_) << "[vault]\nkdf_memory_kib = 64\nkdf_iterations = 1\n" << ExtraConfig();
    backend_ = Open();
    ASSERT_NE(backend_, nullptr);
    InitToken();
  }
  void TearDown() override {
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  virtual std::string ExtraConfig() const { return ""; }

  // Open: another backend on the same vault (a second application).
  std::unique_ptr<Backend> Open() {
    BackendOptions options;
    options.vault_dir = dir_ + "/vault";
    options.config_path = conf_;
    options.create_vault = true;
    auto b = OpenEmbeddedBackend(options);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? std::move(*b) : nullptr;
  }
  // InitToken: C_InitToken on the last slot, then the SO sets the user PIN.
  void InitToken() {
    auto slots = backend_->GetSlotList(true);
    ASSERT_TRUE(slots.ok() && !slots->empty());
    slot_ = slots->back();
    ASSERT_TRUE(backend_->InitToken(slot_, Pin(kSoPin), "test").ok());
    auto so = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    ASSERT_TRUE(so.ok());
    ASSERT_TRUE(backend_->Login(*so, UserType::kSo, Pin(kSoPin)).ok());
    ASSERT_TRUE(backend_->InitPin(*so, Pin(kUserPin)).ok());
    ASSERT_TRUE(backend_->CloseSession(*so).ok());
  }
  // RwSession: a R/W session on the token, not logged in.
  SessionHandle RwSession() {
    auto s = backend_->OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : 0;
  }
  // UserSession: a R/W session with the user logged in (the login is per
  // application, so one already made counts).
  SessionHandle UserSession() {
    SessionHandle s = RwSession();
    Status st = backend_->Login(s, UserType::kUser, Pin(kUserPin));
    EXPECT_TRUE(st.ok() || st.reason() == Reason::kUserAlreadyLoggedIn) << st.ToString();
    return s;
  }

  std::string dir_, conf_;
  std::unique_ptr<Backend> backend_;
  SlotId slot_ = 0;
};

}  // namespace certvault::testing

#endif  // CERTVAULT_CORE_TESTING_TOKEN_TEST_H_
