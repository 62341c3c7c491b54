// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The whole permission matrix (every role x every action) through
// RoleService on a real SQLite database: each cell is allowed, or refused
// with kPermissionDenied and one "denied" audit record naming the actor and
// its role. The expected cells are read from docs/design/roles.md, so the
// documented table and the code's cannot drift apart.
#include "ca/roles/roles.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ca/roles/role_service.h"

namespace certvault::ca {
namespace {

// DocMatrix: the table of docs/design/roles.md ("| role | issue | ..."):
// role name -> action name -> allowed ("yes") or not ("-").
std::map<std::string, std::map<std::string, bool>> DocMatrix() {
  std::ifstream in(std::string(CV_SOURCE_DIR) + "/docs/design/roles.md");
  std::map<std::string, std::map<std::string, bool>> out;
  std::vector<std::string> header;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("| ")) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(" `"));
      cell.erase(cell.find_last_not_of(" `") + 1);
      cells.push_back(cell);
    }
    if (cells.empty()) continue;
    if (cells[0] == "role \\ action") {
      header = cells;
    } else if (!header.empty() && ParseRole(cells[0]).ok() && cells.size() == header.size()) {
      for (size_t i = 1; i < cells.size(); ++i) out[cells[0]][header[i]] = cells[i] == "yes";
    }
  }
  return out;
}

class RolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cv-roles.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto db = OpenCertDb("sqlite:" + dir_ + "/ca.db", {true, ""});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    roles_ = std::make_unique<RoleService>(*db_, "t-issuing");
  }
  void TearDown() override {
    roles_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Add: identity `name` with `role`, certificate serial `serial`.
  void Add(const std::string& name, Role role, const std::string& serial) {
    Status st = roles_->AddUser(BreakGlass("test"), name, role, "t-issuing", serial);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Principal As(const std::string& serial) {
    Result<Principal> p = roles_->SignIn("t-issuing", serial, "127.0.0.1");
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : Principal{};
  }
  size_t CountAudit(const std::string& action) {
    auto events = db_->ListAudit(100000);
    EXPECT_TRUE(events.ok());
    size_t n = 0;
    for (const AuditEvent& e : *events) n += e.action == action;
    return n;
  }
  std::string dir_;
  std::unique_ptr<CertDb> db_;
  std::unique_ptr<RoleService> roles_;
};

TEST_F(RolesTest, DocumentedMatrixIsTheCodesMatrix) {
  auto doc = DocMatrix();
  ASSERT_EQ(doc.size(), std::size(kAllRoles)) << "docs/design/roles.md: the permission table is missing";
  for (Role role : kAllRoles) {
    for (Action action : kAllActions) {
      auto& row = doc[std::string(RoleName(role))];
      ASSERT_EQ(row.count(std::string(ActionName(action))), 1u) << ActionName(action);
      EXPECT_EQ(row[std::string(ActionName(action))], Allowed(role, action))
          << RoleName(role) << " x " << ActionName(action);
    }
  }
}

TEST_F(RolesTest, EveryRoleTimesEveryActionAllowedOrDeniedAndAudited) {
  int serial = 0x10;
  for (Role role : kAllRoles) {
    std::string hex = std::to_string(serial++);
    Add("u-" + std::string(RoleName(role)), role, hex);
    Principal who = As(hex);
    ASSERT_EQ(who.roles, std::set<Role>{role});
    for (Action action : kAllActions) {
      size_t denied_before = CountAudit("denied");
      Status st = roles_->Check(who, action, "target");
      if (Allowed(role, action)) {
        EXPECT_TRUE(st.ok()) << RoleName(role) << " x " << ActionName(action) << ": " << st.ToString();
        EXPECT_EQ(CountAudit("denied"), denied_before);
        continue;
      }
      EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << RoleName(role) << " x " << ActionName(action);
      ASSERT_EQ(CountAudit("denied"), denied_before + 1) << RoleName(role) << " x " << ActionName(action);
      AuditEvent last = (*db_->ListAudit(1))[0];
      EXPECT_EQ(last.actor, "u-" + std::string(RoleName(role)) + " (" + std::string(RoleName(role)) + ")");
      EXPECT_NE(last.detail.find(std::string(ActionName(action))), std::string::npos) << last.detail;
      EXPECT_NE(last.detail.find("127.0.0.1"), std::string::npos) << last.detail;
    }
  }
}

TEST_F(RolesTest, SeparationOfDutiesRefusesConflictingPairs) {
  const std::pair<Role, Role> kRefused[] = {{Role::kAdmin, Role::kAuditor},
                                            {Role::kOperator, Role::kAdmin},
                                            {Role::kOperator, Role::kAuditor},
                                            {Role::kCryptoOfficer, Role::kAuditor}};
  Add("boss", Role::kAuthority, "01");
  Principal boss = As("01");
  int serial = 0x20;
  for (const auto& [held, asked] : kRefused) {
    for (const auto& [first, second] : {std::pair{held, asked}, std::pair{asked, held}}) {
      std::string name = "p" + std::to_string(serial);
      Add(name, first, std::to_string(serial++));
      size_t denied = CountAudit("denied");
      Status st = roles_->SetRole(boss, name, second, true);
      EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << RoleName(first) << "+" << RoleName(second);
      EXPECT_EQ(CountAudit("denied"), denied + 1);
      auto id = db_->FindIdentity(name);
      ASSERT_TRUE(id.ok());
      EXPECT_EQ(id->roles, std::vector<std::string>{std::string(RoleName(first))}) << "nothing changed";
      // Break-glass (the CA token PIN) obeys the separation of duties too.
      EXPECT_EQ(roles_->SetRole(BreakGlass("root"), name, second, true).code(), StatusCode::kFailedPrecondition);
    }
  }
  // A pair that does not conflict is granted, and recorded.
  Add("co", Role::kCryptoOfficer, "99");
  size_t grants = CountAudit("role-grant");
  ASSERT_TRUE(roles_->SetRole(boss, "co", Role::kOperator, true).ok());
  EXPECT_EQ(CountAudit("role-grant"), grants + 1);
  EXPECT_EQ(As("99").roles, (std::set<Role>{Role::kCryptoOfficer, Role::kOperator}));
}

TEST_F(RolesTest, AssignmentsNeedTheAuthorityAndNobodyGrantsThemselves) {
  Add("boss", Role::kAuthority, "01");
  Add("bob", Role::kAdmin, "02");
  Add("olga", Role::kOperator, "03");
  Principal boss = As("01"), bob = As("02");
  EXPECT_EQ(roles_->SetRole(bob, "olga", Role::kCryptoOfficer, true).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->SetRole(bob, "bob", Role::kCryptoOfficer, true).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->SetRole(boss, "boss", Role::kCryptoOfficer, true).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->SetRole(boss, "boss", Role::kAuthority, false).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->AddUser(bob, "eve", Role::kOperator, "t-issuing", "04").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->RemoveUser(bob, "olga").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(roles_->RemoveUser(boss, "boss").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CountAudit("denied"), 7u);
  EXPECT_EQ(db_->FindIdentity("boss")->roles, std::vector<std::string>{"authority"});
  EXPECT_FALSE(db_->FindIdentity("eve").ok());
  // The authority may: grant, take away, remove.
  ASSERT_TRUE(roles_->SetRole(boss, "bob", Role::kCryptoOfficer, true).ok());
  ASSERT_TRUE(roles_->SetRole(boss, "bob", Role::kAdmin, false).ok());
  EXPECT_EQ(db_->FindIdentity("bob")->roles, std::vector<std::string>{"crypto-officer"});
  ASSERT_TRUE(roles_->RemoveUser(boss, "olga").ok());
  EXPECT_EQ(roles_->SignIn("t-issuing", "03", "x").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(CountAudit("sign-in-failed"), 1u);
  EXPECT_EQ(CountAudit("user-remove"), 1u);
}

// Changes of users and roles raise an alert at once ([audit.alert]);
// refused changes do not.
TEST_F(RolesTest, UserAndRoleChangesRaiseAlerts) {
  AuditConfig alerts;
  const std::string out = dir_ + "/alerts.txt";
  alerts.alert_command = "printf '%s;' \"$CV_ALERT_KIND\" >> " + out;
  roles_->SetAlerts(&alerts);
  Add("boss", Role::kAuthority, "01");
  Add("bob", Role::kAdmin, "02");
  Principal boss = As("01"), bob = As("02");
  EXPECT_EQ(roles_->SetRole(bob, "bob", Role::kCryptoOfficer, true).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(roles_->SetRole(boss, "bob", Role::kCryptoOfficer, true).ok());
  ASSERT_TRUE(roles_->RemoveUser(boss, "bob").ok());
  std::ifstream in(out);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "user-change;user-change;role-change;user-change;");
}

TEST_F(RolesTest, BadNamesAndDuplicatesChangeNothing) {
  Add("alice", Role::kOperator, "0a");
  EXPECT_EQ(roles_->AddUser(BreakGlass("t"), "alice", Role::kAuditor, "t-issuing", "0b").code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(roles_->AddUser(BreakGlass("t"), "mallory", Role::kAuditor, "t-issuing", "0a").code(),
            StatusCode::kAlreadyExists);
  for (const char* bad : {"", "a b", "x/y", "o'neil", "semi;colon"}) {
    EXPECT_EQ(roles_->AddUser(BreakGlass("t"), bad, Role::kAuditor, "t-issuing", "0c").code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(db_->ListIdentities()->size(), 1u);
  EXPECT_EQ(ParseRole("root").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace certvault::ca
