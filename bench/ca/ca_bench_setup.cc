// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// certvault-ca-bench: token, CA and CSR setup; a private PostgreSQL server.
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "bench/ca/ca_bench.h"
#include "ca/p11/p11_module.h"
#include "src/base/status_macros.h"

namespace certvault::cabench {

Status InitToken(const std::string& module, const std::string& label, const std::string& so_pin,
                 const std::string& pin) {
  CV_ASSIGN_OR_RETURN(std::shared_ptr<ca::P11Module> m, ca::P11Module::Load(module));
  CK_FUNCTION_LIST* fn = m->fn();
  CK_SLOT_ID slots[8];
  CK_ULONG n = 8;
  CV_RETURN_IF_ERROR(ca::CheckRv(fn->C_GetSlotList(CK_FALSE, slots, &n), "C_GetSlotList"));
  if (n == 0) return NotFoundError("no slot");
  CK_UTF8CHAR padded[32];
  std::fill(padded, padded + 32, ' ');
  std::copy(label.begin(), label.end(), padded);
  auto p = [](const std::string& s) { return reinterpret_cast<CK_UTF8CHAR_PTR>(const_cast<char*>(s.data())); };
  CV_RETURN_IF_ERROR(ca::CheckRv(fn->C_InitToken(slots[0], p(so_pin), so_pin.size(), padded), "C_InitToken"));
  CK_SESSION_HANDLE s;
  CV_RETURN_IF_ERROR(ca::CheckRv(fn->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s),
                                 "C_OpenSession"));
  CV_RETURN_IF_ERROR(ca::CheckRv(fn->C_Login(s, CKU_SO, p(so_pin), so_pin.size()), "C_Login(SO)"));
  CV_RETURN_IF_ERROR(ca::CheckRv(fn->C_InitPIN(s, p(pin), pin.size()), "C_InitPIN"));
  fn->C_Logout(s);
  fn->C_CloseSession(s);
  return OkStatus();
}

Result<std::unique_ptr<ca::CaInstance>> MakeCa(const Options& o, const std::string& dir, const std::string& name,
                                               const std::string& database) {
  std::string mk = "mkdir -p '" + dir + "'";
  if (std::system(mk.c_str()) != 0) return InternalError("mkdir failed");
  std::ofstream(dir + "/pin.txt") << "bench-pin-1234\n";
  chmod((dir + "/pin.txt").c_str(), 0600);
  std::ofstream toml(dir + "/ca.toml");
  toml << "[ca]\nname = \"" << name << "\"\nroot_subject = \"/CN=Bench Root/O=Bench\"\n"
       << "issuing_subject = \"/CN=Bench Issuing " << name << "/O=Bench\"\nkey_algorithm = \"ec-p256\"\n"
       << "crl_url = \"http://127.0.0.1:1/crl/full.crl\"\nocsp_url = \"http://127.0.0.1:1/\"\n"
       << "sign_threads = " << o.threads << "\n"
       << "[token]\nmodule = \"" << o.module << "\"\nlabel = \"bench\"\npin_file = \"pin.txt\"\n"
       << "[database]\nurl = \"" << database << "\"\n"
       << "[profiles.device]\ndays = 365\nextended_key_usage = [\"clientAuth\"]\nsubject_allowed = [\"CN\"]\n"
       << "san_types = [\"DNS\"]\nkey_algorithms = [\"ec-p256\"]\n";
  toml.close();
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ca::CaInstance> inst, ca::CaInstance::Open(dir, true, "", /*create_db=*/true));
  CV_RETURN_IF_ERROR(inst->Init(false, "bench"));
  return inst;
}

namespace {

Bytes OneCsr(size_t i) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* req = X509_REQ_new();
  X509_NAME* name = X509_NAME_new();
  std::string cn = "device-" + std::to_string(i);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_subject_name(req, name);
  X509_REQ_set_pubkey(req, key);
  X509_REQ_sign(req, key, EVP_sha256());
  int len = i2d_X509_REQ(req, nullptr);
  Bytes der(static_cast<size_t>(std::max(len, 0)));
  uint8_t* p = der.data();
  i2d_X509_REQ(req, &p);
  X509_NAME_free(name);
  X509_REQ_free(req);
  EVP_PKEY_free(key);
  return der;
}

}  // namespace

std::vector<ca::IssueItem> MakeCsrs(size_t n, uint32_t threads) {
  std::vector<ca::IssueItem> items(n);
  std::vector<std::thread> pool;
  for (uint32_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; i < n; i += threads) items[i] = {"csr-" + std::to_string(i), OneCsr(i)};
    });
  }
  for (std::thread& t : pool) t.join();
  return items;
}

namespace {

std::string PgBin() {
  FILE* f = popen("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1", "r");
  if (f == nullptr) return "";
  char buf[256] = {};
  if (fgets(buf, sizeof(buf), f) == nullptr) buf[0] = 0;
  pclose(f);
  std::string s(buf);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::string RunAs() { return getuid() == 0 ? "runuser -u postgres -- " : ""; }

}  // namespace

Result<std::string> StartPostgres(const std::string& dir) {
  std::string bin = PgBin();
  if (bin.empty() || access((bin + "/initdb").c_str(), X_OK) != 0) return NotFoundError("PostgreSQL not installed");
  std::string port = std::to_string(20000 + getpid() % 20000);
  std::string cmd = "mkdir -p '" + dir + "' && chmod 755 '" + dir + "'" +
                    (getuid() == 0 ? " && chown postgres '" + dir + "'" : std::string()) + " && " + RunAs() + bin +
                    "/initdb -D '" + dir + "/data' -A trust -U postgres >/dev/null 2>&1 && " + RunAs() + bin +
                    "/pg_ctl -D '" + dir + "/data' -l '" + dir + "/log' -w -o \"-p " + port + " -k " + dir +
                    " -c listen_addresses=''\" start >/dev/null && " + RunAs() + bin + "/createdb -h '" + dir +
                    "' -p " + port + " -U postgres ca";
  if (std::system(cmd.c_str()) != 0) return UnavailableError("could not start PostgreSQL");
  return "host=" + dir + " port=" + port + " dbname=ca user=postgres";
}

void StopPostgres(const std::string& dir) {
  std::string bin = PgBin();
  std::string cmd = RunAs() + bin + "/pg_ctl -D '" + dir + "/data' -m immediate stop >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return;
}

}  // namespace certvault::cabench
