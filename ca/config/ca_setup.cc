// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/config/ca_setup.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ca/config/ca_config.h"
#include "ca/instance/subject.h"
#include "ca/p11/ca_key.h"
#include "src/base/status_macros.h"

namespace certvault::ca {
namespace {

// TomlString: a TOML basic string. Control characters are refused before
// (CheckText), so only '"' and '\' need escaping.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string TomlStrings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i == 0 ? "" : ", ") + TomlString(v[i]);
  return out + "]";
}

Status CheckText(const std::string& flag, const std::string& value) {
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return InvalidArgumentError(flag + ": control characters are not allowed");
  }
  return OkStatus();
}

Status CheckName(const std::string& name) {
  if (name.empty()) return InvalidArgumentError("--name is required (the CA's name, e.g. --name factory)");
  bool ok = name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
            });
  if (!ok) return InvalidArgumentError("--name must be 1..32 characters of A-Z a-z 0-9 . _ -");
  return OkStatus();
}

Status CheckSubject(const std::string& flag, const std::string& subject) {
  CV_RETURN_IF_ERROR(CheckText(flag, subject));
  Result<std::vector<SubjectEntry>> entries = SplitSubject(subject);
  if (!entries.ok() || entries->empty()) {
    return InvalidArgumentError(flag + ": not a subject of the form /CN=Name/O=Org/C=JP: " + subject);
  }
  return OkStatus();
}

Status CheckDatabase(const std::string& url) {
  CV_RETURN_IF_ERROR(CheckText("--database", url));
  bool sqlite = url.starts_with("sqlite:") && url.size() > 7;
  bool pg = url.starts_with("postgresql://") || url.starts_with("postgres://");
  if (!sqlite && !pg) {
    return InvalidArgumentError("--database must be sqlite:PATH (relative to the instance) or postgresql://...: " +
                                url);
  }
  return OkStatus();
}

// CheckUrl: "http://HOST[:PORT]" — `ocsp serve` answers at /ocsp and
// serves /crl/*.crl at the root of that address.
Status CheckUrl(const std::string& url) {
  CV_RETURN_IF_ERROR(CheckText("--url", url));
  if (!url.starts_with("http://") || url.size() <= 7) {
    return InvalidArgumentError("--url must be http://HOST[:PORT] (where `ocsp serve` is reached): " + url);
  }
  std::string rest = url.substr(7);
  if (rest.find_first_of("/?#@ ") != std::string::npos) {
    return InvalidArgumentError("--url must be http://HOST[:PORT] without a path: " + url);
  }
  return OkStatus();
}

Status CheckDnsName(const std::string& name) {
  std::string n = name.starts_with(".") ? name.substr(1) : name;
  bool ok = !n.empty() && n.size() <= 253 && n.front() != '.' && n.back() != '.' && n.find("..") == std::string::npos &&
            std::all_of(n.begin(), n.end(),
                        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; });
  if (!ok) return InvalidArgumentError("--permitted-dns: not a DNS name: " + name);
  return OkStatus();
}

Status CheckOptions(const SetupOptions& o) {
  CV_RETURN_IF_ERROR(CheckName(o.name));
  if (!o.external_root) CV_RETURN_IF_ERROR(CheckSubject("--root-subject", o.root_subject));
  CV_RETURN_IF_ERROR(CheckSubject("--issuing-subject", o.issuing_subject));
  Result<KeyAlgorithm> alg = ParseKeyAlgorithm(o.key_algorithm);
  if (!alg.ok()) return InvalidArgumentError("--key-algorithm: " + std::string(alg.status().message()));
  Result<x509::SignatureAlgorithm> sig = SignatureAlgorithmFor(*alg, o.signature_algorithm);
  if (!sig.ok()) return InvalidArgumentError("--signature-algorithm: " + std::string(sig.status().message()));
  if (o.token_module.empty()) return InvalidArgumentError("--token-module is required (the PKCS#11 module's path)");
  if (o.token_label.empty()) return InvalidArgumentError("--token-label is required (the CA token's label)");
  CV_RETURN_IF_ERROR(CheckText("--token-module", o.token_module));
  CV_RETURN_IF_ERROR(CheckText("--token-label", o.token_label));
  if (o.pin_file.empty() == o.pin_env.empty()) {
    return InvalidArgumentError("give one of --pin-file F (mode 0600) or --pin-env VAR for the token PIN");
  }
  CV_RETURN_IF_ERROR(CheckText("--pin-file", o.pin_file));
  CV_RETURN_IF_ERROR(CheckText("--pin-env", o.pin_env));
  CV_RETURN_IF_ERROR(CheckDatabase(o.database));
  if (!o.url.empty()) CV_RETURN_IF_ERROR(CheckUrl(o.url));
  for (const std::string& d : o.permitted_dns) CV_RETURN_IF_ERROR(CheckDnsName(d));
  if (o.crl_partitions < 1 || o.crl_partitions > 1024) return InvalidArgumentError("--crl-partitions must be 1..1024");
  return OkStatus();
}

SetupOptions WithDefaults(SetupOptions o) {
  if (o.root_subject.empty() && !o.external_root) o.root_subject = "/CN=" + o.name + " Root CA";
  if (o.external_root) o.root_subject.clear();
  if (o.issuing_subject.empty()) o.issuing_subject = "/CN=" + o.name + " Issuing CA";
  if (o.key_algorithm.empty()) o.key_algorithm = "ec-p256";
  if (o.database.empty()) o.database = "sqlite:ca.db";
  while (o.url.ends_with("/")) o.url.pop_back();
  return o;
}

std::string CaSection(const SetupOptions& o) {
  std::vector<std::string> permitted;
  for (const std::string& d : o.permitted_dns) permitted.push_back("DNS:" + (d.starts_with(".") ? d.substr(1) : d));
  std::string crl_url = o.url.empty() ? "" : o.url + "/crl/full.crl";
  std::string ocsp_url = o.url.empty() ? "" : o.url + "/ocsp";
  std::ostringstream s;
  s << "[ca]\n"
    << "name = " << TomlString(o.name)
    << "  # token key labels <name>-root, -issuing, -ocsp; CA names in the database\n"
    << "root_subject = " << TomlString(o.root_subject) << (o.external_root ? "  # external root: none here\n" : "\n")
    << "issuing_subject = " << TomlString(o.issuing_subject) << "\n"
    << "key_algorithm = " << TomlString(o.key_algorithm)
    << "  # root, issuing CA and OCSP signer keys, made in the token\n"
    << "signature_algorithm = " << TomlString(o.signature_algorithm)
    << "  # \"\" = the key's default; rsa-pss for RSA keys\n"
    << "root_days = 7300\nissuing_days = 3650\nissuing_path_len = 0\n"
    << "permitted_names = " << TomlStrings(permitted) << "  # the issuing CA's nameConstraints (critical)\n"
    << "excluded_names = []\n"
    << "crl_url = " << TomlString(crl_url) << "  # CRL DP of issued certificates; delta and root CRLs beside it\n"
    << "ocsp_url = " << TomlString(ocsp_url) << "  # AIA id-ad-ocsp; `ocsp serve` answers there\n"
    << "crl_next_update_hours = 168\ndelta_next_update_hours = 24\nocsp_validity_minutes = 60\n"
    << "crl_partitions = " << o.crl_partitions << "  # >1: partitioned CRLs, each with an issuingDistributionPoint\n"
    << "max_csr_bytes = 16384\nsign_threads = 2\n"
    << "verify_issued = true         # verify every token signature before the certificate is stored\n"
    << "time_source = \"\"             # \"ntp://HOST[:PORT]\": sign nothing while the clock is off by more than\n"
    << "max_clock_skew_seconds = 10  #   this many seconds\n\n";
  return s.str();
}

std::string OtherSections(const SetupOptions& o) {
  std::ostringstream s;
  s << "[token]\n"
    << "module = " << TomlString(o.token_module) << "\n"
    << "label = " << TomlString(o.token_label) << "\n";
  if (!o.pin_file.empty()) {
    s << "pin_file = " << TomlString(o.pin_file) << "  # the PIN's first line; mode 0600 (refused otherwise)\n\n";
  } else {
    s << "pin_env = " << TomlString(o.pin_env) << "  # the environment variable holding the PIN\n\n";
  }
  s << "[database]\n"
    << "url = " << TomlString(o.database) << "  # sqlite:PATH (relative to this directory) or postgresql://...\n\n"
    << "[server]                     # ocsp serve\n"
    << "selftest_interval_s = 3600   # rerun the power-on self-tests this often (0 = never)\n\n";
  return s.str();
}

}  // namespace

Result<std::vector<ProfileText>> ReadProfileDir(const std::string& dir) {
  std::vector<ProfileText> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".toml") continue;
    std::ifstream in(entry.path());
    std::stringstream buf;
    buf << in.rdbuf();
    if (!in) return NotFoundError("cannot read " + entry.path().string());
    out.push_back({entry.path().stem().string(), buf.str()});
  }
  if (ec || out.empty()) return NotFoundError("no profiles (*.toml) in " + dir);
  std::sort(out.begin(), out.end(), [](const ProfileText& a, const ProfileText& b) { return a.name < b.name; });
  return out;
}

Result<std::string> RenderConfig(const SetupOptions& given, const std::vector<ProfileText>& profiles,
                                 const std::string& dir) {
  SetupOptions o = WithDefaults(given);
  CV_RETURN_IF_ERROR(CheckOptions(o));
  std::string text =
      "# ca.toml of the certvault-ca instance '" + o.name + "', written by `certvault-ca init` from its flags.\n" +
      "# Edit freely; every key is described in docs/design/ca.md (\"A CA instance\"). The PIN is never here.\n" +
      "# The profiles below are the shipped starting set (share/certvault/ca-profiles/).\n\n";
  text += CaSection(o) + OtherSections(o);
  for (const ProfileText& p : profiles) text += p.text + (p.text.ends_with("\n") ? "\n" : "\n\n");
  Result<CaConfig> parsed = ParseConfig(text, dir);
  if (!parsed.ok())
    return InvalidArgumentError("the generated ca.toml is refused: " + std::string(parsed.status().message()));
  for (const ProfileText& p : profiles) {
    if (parsed->profiles.count(p.name) == 0) {
      return InvalidArgumentError("profile file " + p.name + ".toml must define [profiles." + p.name + "]");
    }
  }
  return text;
}

}  // namespace certvault::ca
