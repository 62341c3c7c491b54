// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvaultd's [daemon] settings and the backend selection of the clients.
#include "daemon/daemon_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "src/ipc/client.h"
#include "src/ipc/open_backend.h"

namespace certvault::daemon {
namespace {

TEST(DaemonConfigTest, ParsesEveryKey) {
  auto c = ParseDaemonSettings({{"socket", "/run/x.sock"},
                                {"allowed_uids", "1000, 1001"},
                                {"allowed_gids", "990"},
                                {"socket_mode", "0600"},
                                {"max_connections", "8"},
                                {"max_sessions_per_client", "16"},
                                {"max_frame_bytes", "65536"},
                                {"max_request_bytes", "131072"},
                                {"frame_timeout_ms", "500"},
                                {"spin_us", "0"},
                                {"user", "certvault"},
                                {"secure_heap_kib", "0"},
                                {"lock_memory", "true"},
                                {"cpu_pairing", "false"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->socket_path, "/run/x.sock");
  EXPECT_EQ(c->allowed_uids, (std::set<uid_t>{1000, 1001}));
  EXPECT_EQ(c->allowed_gids, (std::set<gid_t>{990}));
  EXPECT_EQ(c->socket_mode, 0600u);
  EXPECT_EQ(c->max_connections, 8u);
  EXPECT_EQ(c->max_frame, 65536u);
  EXPECT_EQ(c->max_request, 131072u);
  EXPECT_EQ(c->spin_us, 0);
  EXPECT_TRUE(c->lock_memory);
  EXPECT_FALSE(c->cpu_pairing);
}

TEST(DaemonConfigTest, DefaultsToTheOwnUidAndRejectsBadValues) {
  auto c = ParseDaemonSettings({});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->allowed_uids, (std::set<uid_t>{geteuid()}));
  EXPECT_TRUE(c->cpu_pairing);
  EXPECT_FALSE(ParseDaemonSettings({{"max_frame_bytes", "100"}}).ok());  // below 4096
  EXPECT_FALSE(ParseDaemonSettings({{"max_request_bytes", "8192"}}).ok());  // below max_frame_bytes
  EXPECT_FALSE(ParseDaemonSettings({{"max_request_bytes", "134217728"}}).ok());  // over 64 MiB
  EXPECT_FALSE(ParseDaemonSettings({{"allowed_uids", "1000,x"}}).ok());
  EXPECT_FALSE(ParseDaemonSettings({{"socket_mode", "0999"}}).ok());
  EXPECT_FALSE(ParseDaemonSettings({{"lock_memory", "yes"}}).ok());
  EXPECT_FALSE(ParseDaemonSettings({{"cpu_pairing", "1"}}).ok());
  EXPECT_FALSE(ParseDaemonSettings({{"no_such_key", "1"}}).ok());
}

TEST(OpenBackendTest, SelectsTheDaemonFromTheEnvironmentOrTheConfigFile) {
  char dir[] = "/tmp/cv-select-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string conf = std::string(dir) + "/c.conf";
  std::ofstream(conf) << "[daemon]\nsocket = " << dir << "/from-conf.sock\n";
  BackendOptions options{std::string(dir) + "/vault", "", false};
  unsetenv("CERTVAULT_CONF");
  setenv("CERTVAULT_SOCKET", "/nonexistent/from-env.sock", 1);
  EXPECT_EQ(*DaemonSocketFor(options), "/nonexistent/from-env.sock");
  auto b = OpenBackend(options);
  ASSERT_TRUE(b.ok());
  // A daemon client (not reachable here): PingDaemon works on it and reports the device gone.
  EXPECT_EQ(ipc::PingDaemon(b->get()).reason(), Reason::kDeviceRemoved);
  unsetenv("CERTVAULT_SOCKET");
  options.config_path = conf;
  EXPECT_EQ(*DaemonSocketFor(options), std::string(dir) + "/from-conf.sock");
  options.config_path.clear();
  EXPECT_EQ(*DaemonSocketFor(options), "");
  auto embedded = OpenBackend(options);
  ASSERT_TRUE(embedded.ok());
  EXPECT_EQ(ipc::PingDaemon(embedded->get()).code(), StatusCode::kInvalidArgument);  // the embedded backend
  unlink(conf.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace certvault::daemon
