// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The vault's event log through certvaultd (docs/formats/event-log.md): the
// daemon records, for each client application, the client process it got
// from SO_PEERCRED (uid, pid) and its executable, not itself.
#include <sys/wait.h>

#include "daemon/daemon_test_fixture.h"
#include "src/audit/verify.h"
#include "src/storage/store.h"

namespace certvault::daemon {
namespace {

class DaemonEventLogTest : public DaemonTest {
 protected:
  std::vector<storage::EventRow> Events(SlotId slot) {
    std::vector<storage::EventRow> out;
    auto store = storage::OpenStore(dir_ + "/vault/vault.db", storage::StoreOptions{});
    EXPECT_TRUE(store.ok());
    EXPECT_TRUE((*store)
                    ->ForEachEvent(slot,
                                   [&](const storage::EventRow& e) {
                                     out.push_back(e);
                                     return OkStatus();
                                   })
                    .ok());
    Result<audit::VerifyReport> r = audit::VerifyLog(**store, slot, {});
    EXPECT_TRUE(r.ok() && r->ok) << (r.ok() ? r->problem : r.status().ToString());
    return out;
  }
};

TEST_F(DaemonEventLogTest, RecordsTheClientProcess) {
  StartServer();
  auto b = Client();
  SlotId slot;
  SessionHandle s = InitToken(b.get(), &slot);
  ASSERT_TRUE(b->CloseSession(s).ok());
  pid_t pid = fork();
  if (pid == 0) {
    // A separate client process: its own application in the daemon.
    auto own = b->OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    int rc = own.ok() ? 0 : 1;
    if (rc == 0 && b->Login(*own, UserType::kUser, Pin("wrong-pin")).reason() != Reason::kPinIncorrect) rc |= 2;
    if (rc == 0 && !b->Login(*own, UserType::kUser, Pin(kUserPin)).ok()) rc |= 4;
    if (rc == 0 && GenerateEc(b.get(), *own) == 0) rc |= 8;
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::vector<storage::EventRow> events = Events(slot);
  ASSERT_EQ(events.size(), 7u);
  // init_token, login (so), init_pin, login (user): this process.
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(events[i].mode, "daemon") << events[i].action;
    EXPECT_EQ(events[i].peer_pid, static_cast<int64_t>(getpid())) << events[i].action;
  }
  // The child's failed login, login and key generation.
  const std::vector<std::string> child_actions = {"login", "login", "generate_key_pair"};
  for (size_t i = 0; i < child_actions.size(); ++i) {
    const storage::EventRow& e = events[events.size() - 3 + i];
    EXPECT_EQ(e.action, child_actions[i]);
    EXPECT_EQ(e.mode, "daemon");
    EXPECT_EQ(e.peer_pid, static_cast<int64_t>(pid));
    EXPECT_EQ(e.peer_uid, static_cast<int64_t>(getuid()));
    EXPECT_NE(e.peer_exe.find("daemon_event_log_test"), std::string::npos) << e.peer_exe;
  }
  EXPECT_EQ(events[events.size() - 3].result, "pin_incorrect");
  EXPECT_EQ(events.back().role, "user");
}

}  // namespace
}  // namespace certvault::daemon
