// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/config/ca_setup.h"

#include <gtest/gtest.h>

#include "ca/config/ca_config.h"

namespace certvault::ca {
namespace {

SetupOptions Minimal() {
  SetupOptions o;
  o.name = "factory";
  o.token_module = "/usr/lib/softhsm/libsofthsm2.so";
  o.token_label = "ca";
  o.pin_file = "pin.txt";
  return o;
}

TEST(CaSetup, ShipsDeviceServerAndInternalOcsp) {
  const std::vector<ProfileText>& shipped = ShippedProfiles();
  ASSERT_EQ(shipped.size(), 3u);
  auto text = RenderConfig(Minimal(), shipped, "/srv/ca");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto cfg = ParseConfig(*text, "/srv/ca");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->profiles.size(), 3u);
  const Profile& device = cfg->profiles.at("device");
  EXPECT_EQ(device.extended_key_usage, std::vector<std::string>{"clientAuth"});
  EXPECT_FALSE(device.internal);
  const Profile& server = cfg->profiles.at("server");
  EXPECT_EQ(server.extended_key_usage, std::vector<std::string>{"serverAuth"});
  EXPECT_TRUE(server.require_san);
  EXPECT_TRUE(server.subject_required.empty());
  const Profile& ocsp = cfg->profiles.at("ocsp");
  EXPECT_TRUE(ocsp.internal);
  EXPECT_EQ(ocsp.extended_key_usage, std::vector<std::string>{"OCSPSigning"});
}

TEST(CaSetup, DefaultsAndChoicesLandInCaToml) {
  auto cfg = ParseConfig(*RenderConfig(Minimal(), ShippedProfiles(), "/srv/ca"), "/srv/ca");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->name, "factory");
  EXPECT_EQ(cfg->root_subject, "/CN=factory Root CA");
  EXPECT_EQ(cfg->issuing_subject, "/CN=factory Issuing CA");
  EXPECT_EQ(cfg->key_algorithm, KeyAlgorithm::kEcP256);
  EXPECT_EQ(cfg->database, "sqlite:/srv/ca/ca.db");
  EXPECT_EQ(cfg->token.pin_file, "/srv/ca/pin.txt");
  EXPECT_TRUE(cfg->crl_url.empty());

  SetupOptions o = Minimal();
  o.root_subject = "/CN=Root \"Q\" CA/O=Back\\slash/C=JP";
  o.key_algorithm = "rsa-3072";
  o.signature_algorithm = "rsa-pss";
  o.pin_file.clear();
  o.pin_env = "CA_PIN";
  o.database = "postgresql://ca@db.example/ca";
  o.url = "http://ca.example:8080/";
  o.permitted_dns = {"devices.example.com", ".old.example.com"};
  auto text = RenderConfig(o, ShippedProfiles(), "/srv/ca");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  cfg = ParseConfig(*text, "/srv/ca");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->root_subject, o.root_subject);
  EXPECT_EQ(cfg->key_algorithm, KeyAlgorithm::kRsa3072);
  EXPECT_EQ(cfg->signature_algorithm, x509::SignatureAlgorithm::kRsaPssSha256);
  EXPECT_EQ(cfg->token.pin_env, "CA_PIN");
  EXPECT_EQ(cfg->database, o.database);
  EXPECT_EQ(cfg->crl_url, "http://ca.example:8080/crl/full.crl");
  EXPECT_EQ(cfg->delta_crl_url, "http://ca.example:8080/crl/delta.crl");
  EXPECT_EQ(cfg->root_crl_url, "http://ca.example:8080/crl/root.crl");
  EXPECT_EQ(cfg->ocsp_url, "http://ca.example:8080/ocsp");
  EXPECT_EQ(cfg->permitted_names, (std::vector<std::string>{"DNS:devices.example.com", "DNS:old.example.com"}));
}

TEST(CaSetup, ExternalRootLeavesTheRootSubjectEmpty) {
  SetupOptions o = Minimal();
  o.external_root = true;
  o.root_subject = "/CN=ignored";
  auto cfg = ParseConfig(*RenderConfig(o, ShippedProfiles(), "/srv/ca"), "/srv/ca");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_TRUE(cfg->root_subject.empty());
}

TEST(CaSetup, BadChoicesNameTheFlag) {
  struct Case {
    void (*change)(SetupOptions&);
    const char* flag;
  };
  const Case cases[] = {
      {[](SetupOptions& o) { o.name.clear(); }, "--name"},
      {[](SetupOptions& o) { o.name = "has space"; }, "--name"},
      {[](SetupOptions& o) { o.name = std::string(33, 'a'); }, "--name"},
      {[](SetupOptions& o) { o.root_subject = "CN=no slash"; }, "--root-subject"},
      {[](SetupOptions& o) { o.issuing_subject = "/CN=a\nb"; }, "--issuing-subject"},
      {[](SetupOptions& o) { o.key_algorithm = "dsa-1024"; }, "--key-algorithm"},
      {[](SetupOptions& o) { o.signature_algorithm = "rsa-pss"; }, "--signature-algorithm"},  // EC key
      {[](SetupOptions& o) { o.token_module.clear(); }, "--token-module"},
      {[](SetupOptions& o) { o.token_label.clear(); }, "--token-label"},
      {[](SetupOptions& o) { o.pin_file.clear(); }, "--pin-file"},
      {[](SetupOptions& o) { o.pin_env = "BOTH"; }, "--pin-env"},
      {[](SetupOptions& o) { o.database = "mysql://x"; }, "--database"},
      {[](SetupOptions& o) { o.database = "sqlite:"; }, "--database"},
      {[](SetupOptions& o) { o.url = "https://ca.example"; }, "--url"},
      {[](SetupOptions& o) { o.url = "http://ca.example/pki"; }, "--url"},
      {[](SetupOptions& o) { o.permitted_dns = {"bad name.example"}; }, "--permitted-dns"},
      {[](SetupOptions& o) { o.permitted_dns = {"a..example"}; }, "--permitted-dns"},
  };
  for (const Case& c : cases) {
    SetupOptions o = Minimal();
    c.change(o);
    auto text = RenderConfig(o, ShippedProfiles(), "/srv/ca");
    ASSERT_FALSE(text.ok()) << c.flag;
    EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument) << c.flag;
    EXPECT_NE(std::string(text.status().message()).find(c.flag), std::string::npos) << text.status().message();
  }
}

TEST(CaSetup, RefusesABadProfileFile) {
  std::vector<ProfileText> profiles = {{"device", "[profiles.device]\nkey_usage = [\"bogusUsage\"]\n"}};
  EXPECT_FALSE(RenderConfig(Minimal(), profiles, "/srv/ca").ok());
  profiles = {{"device", "[profiles.other]\ndays = 1\n"}};  // the file's name and its table differ
  EXPECT_FALSE(RenderConfig(Minimal(), profiles, "/srv/ca").ok());
  profiles = {{"server", "[profiles.server]\ninternal = true\nextended_key_usage = [\"OCSPSigning\"]\n"}};
  EXPECT_FALSE(RenderConfig(Minimal(), profiles, "/srv/ca").ok());  // only "ocsp" may be internal
}

}  // namespace
}  // namespace certvault::ca
