// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "daemon/daemon_config.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>

#include "src/base/status_macros.h"

namespace certvault::daemon {
namespace {

Status BadValue(const std::string& key) { return InvalidArgumentError("[daemon] " + key + ": bad value"); }

Status ParseNumber(const std::string& key, const std::string& v, uint64_t min, uint64_t max, int base, uint64_t* out) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) return BadValue(key);
  *out = n;
  return OkStatus();
}

template <typename T>
Status ParseIdList(const std::string& key, const std::string& v, std::set<T>* out) {
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t comma = v.find(',', pos);
    std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    uint64_t id = 0;
    CV_RETURN_IF_ERROR(ParseNumber(key, item, 0, 0xfffffffe, 10, &id));
    out->insert(static_cast<T>(id));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return OkStatus();
}

Status ParseKey(const std::string& key, const std::string& v, DaemonConfig* c) {
  uint64_t n = 0;
  if (key == "socket") {
    c->socket_path = v;
  } else if (key == "allowed_uids") {
    return ParseIdList(key, v, &c->allowed_uids);
  } else if (key == "allowed_gids") {
    return ParseIdList(key, v, &c->allowed_gids);
  } else if (key == "socket_mode") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 0, 0777, 8, &n));
    c->socket_mode = static_cast<unsigned>(n);
  } else if (key == "max_connections") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 1, 65536, 10, &n));
    c->max_connections = static_cast<uint32_t>(n);
  } else if (key == "max_sessions_per_client") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 1, 1u << 20, 10, &n));
    c->max_sessions_per_client = static_cast<uint32_t>(n);
  } else if (key == "max_frame_bytes") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 4096, 64u << 20, 10, &n));
    c->max_frame = static_cast<uint32_t>(n);
  } else if (key == "max_request_bytes") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 4096, 64u << 20, 10, &n));
    c->max_request = static_cast<uint32_t>(n);
  } else if (key == "frame_timeout_ms") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 10, 3600000, 10, &n));
    c->frame_timeout_ms = static_cast<int>(n);
  } else if (key == "spin_us") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 0, 10000, 10, &n));
    c->spin_us = static_cast<int>(n);
  } else if (key == "user") {
    c->user = v;
  } else if (key == "secure_heap_kib") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 0, 1u << 20, 10, &n));
    c->secure_heap_kib = static_cast<uint32_t>(n);
  } else if (key == "lock_memory") {
    if (v != "true" && v != "false") return BadValue(key);
    c->lock_memory = v == "true";
  } else if (key == "token_access") {
    CV_ASSIGN_OR_RETURN(c->token_access, ParseTokenAccess(v));
  } else if (key == "selftest_interval_s") {
    CV_RETURN_IF_ERROR(ParseNumber(key, v, 0, 7u * 86400, 10, &n));
    c->selftest_interval_s = static_cast<uint32_t>(n);
  } else if (key == "cpu_pairing") {
    if (v != "true" && v != "false") return BadValue(key);
    c->cpu_pairing = v == "true";
  } else {
    return InvalidArgumentError("[daemon] unknown key '" + key + "'");
  }
  return OkStatus();
}

}  // namespace

Result<DaemonConfig> ParseDaemonSettings(const std::map<std::string, std::string>& settings) {
  DaemonConfig c;
  for (const auto& [key, value] : settings) CV_RETURN_IF_ERROR(ParseKey(key, value, &c));
  if (c.allowed_uids.empty() && c.allowed_gids.empty()) c.allowed_uids.insert(geteuid());
  if (c.max_request < c.max_frame) return InvalidArgumentError("[daemon] max_request_bytes is below max_frame_bytes");
  return c;
}

std::string DefaultSocketPath() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && *xdg == '/') return std::string(xdg) + "/certvault/certvaultd.sock";
  return "/run/certvault/certvaultd.sock";
}

}  // namespace certvault::daemon
