// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/audit/audit_alert.h"

#include <netdb.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <vector>

#include "ca/db/audit_chain.h"

extern char** environ;

namespace certvault::ca {
namespace {

int SyslogLevel(const std::string& name) {
  if (name == "emerg") return LOG_EMERG;
  if (name == "alert") return LOG_ALERT;
  if (name == "crit") return LOG_CRIT;
  if (name == "err") return LOG_ERR;
  if (name == "warning") return LOG_WARNING;
  if (name == "notice") return LOG_NOTICE;
  return LOG_INFO;
}

Status RunCommand(const std::string& command, const Alert& a, const std::string& json) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e != nullptr; ++e) env_text.emplace_back(*e);
  env_text.push_back("CV_ALERT_KIND=" + a.kind);
  env_text.push_back("CV_ALERT_ACTOR=" + a.actor.identity);
  env_text.push_back("CV_ALERT_CA=" + a.ca);
  env_text.push_back("CV_ALERT_DETAIL=" + a.detail);
  env_text.push_back("CV_ALERT_JSON=" + json);
  std::vector<char*> envp;
  for (std::string& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string cmd = command;
  char sh[] = "/bin/sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, cmd.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()) != 0) {
    return InternalError("[audit.alert] command could not be started");
  }
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) return InternalError("[audit.alert] command failed");
  return OkStatus();
}

// PostWebhook: a plain HTTP/1.1 POST (http:// only; the hook is local
// infrastructure such as an alert manager on the management network).
Status PostWebhook(const std::string& url, const std::string& json) {
  std::string rest = url.substr(7);
  std::string hostport = rest.substr(0, rest.find('/'));
  std::string path = rest.find('/') == std::string::npos ? "/" : rest.substr(rest.find('/'));
  std::string host = hostport.substr(0, hostport.find(':'));
  std::string port = hostport.find(':') == std::string::npos ? "80" : hostport.substr(hostport.find(':') + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return UnavailableError("webhook: unknown host");
  int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  timeval tv{5, 0};
  bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
            connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + hostport +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(json.size()) + "\r\n\r\n" + json;
  ok = ok && send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  char buf[64] = {};
  ssize_t n = ok ? recv(fd, buf, sizeof(buf) - 1, 0) : -1;
  if (fd >= 0) close(fd);
  std::string status(buf, n > 0 ? static_cast<size_t>(n) : 0);
  if (!ok || status.size() < 12 || status[9] != '2') return UnavailableError("webhook: no 2xx answer from " + url);
  return OkStatus();
}

}  // namespace

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string AuditRecordJson(const AuditEvent& e) {
  return "{\"seq\":" + std::to_string(e.seq) + ",\"at\":" + std::to_string(e.at) + ",\"actor\":" + JsonString(e.actor) +
         ",\"role\":" + JsonString(e.role) + ",\"source\":" + JsonString(e.source) +
         ",\"request_id\":" + JsonString(e.request_id) + ",\"action\":" + JsonString(e.action) +
         ",\"ca\":" + JsonString(e.ca) + ",\"target\":" + JsonString(e.object) + ",\"result\":" + JsonString(e.result) +
         ",\"detail\":" + JsonString(e.detail) + ",\"prev_hash\":\"" + ToHex(e.prev_hash) + "\",\"hash\":\"" +
         ToHex(e.hash) + "\"}";
}

std::string AlertJson(const Alert& a) {
  int64_t at = a.at != 0 ? a.at : static_cast<int64_t>(std::time(nullptr));
  return "{\"kind\":" + JsonString(a.kind) + ",\"at\":" + std::to_string(at) + ",\"actor\":" +
         JsonString(a.actor.identity) + ",\"role\":" + JsonString(a.actor.role) + ",\"source\":" +
         JsonString(a.actor.source) + ",\"request_id\":" + JsonString(a.actor.request_id) + ",\"ca\":" +
         JsonString(a.ca) + ",\"detail\":" + JsonString(a.detail) + "}";
}

Status RaiseAlert(const AuditConfig& config, const Alert& alert) {
  std::string json = AlertJson(alert);
  Status first;
  if (!config.alert_syslog_priority.empty()) {
    syslog(SyslogLevel(config.alert_syslog_priority) | LOG_AUTHPRIV, "certvault-ca alert %s", json.c_str());
  }
  if (!config.alert_command.empty()) first = RunCommand(config.alert_command, alert, json);
  if (!config.alert_webhook.empty()) {
    Status st = PostWebhook(config.alert_webhook, json);
    if (first.ok()) first = st;
  }
  return first;
}

}  // namespace certvault::ca
