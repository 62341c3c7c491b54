// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
#include "ca/instance/generations.h"

#include <gtest/gtest.h>

namespace certvault::ca {
namespace {

TEST(KeyGenerations, RenderedTextParsesBack) {
  KeyGenerations g{2, 5};
  Result<KeyGenerations> back = ParseGenerations(RenderGenerations(g));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->root, 2u);
  EXPECT_EQ(back->issuing, 5u);
}

TEST(KeyGenerations, MissingLinesMeanGenerationOne) {
  Result<KeyGenerations> g = ParseGenerations("# nothing yet\n\nissuing = 3\n");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->root, 1u);
  EXPECT_EQ(g->issuing, 3u);
}

TEST(KeyGenerations, MalformedFilesAreDataLoss) {
  for (const char* text : {"issuing = 0\n", "issuing = 1000\n", "issuing = -1\n", "issuing = 2x\n", "issuing\n",
                           "issuing = 2\nissuing = 3\n", "ocsp = 2\n", "root = \n"}) {
    Result<KeyGenerations> g = ParseGenerations(text);
    EXPECT_EQ(g.status().code(), StatusCode::kDataLoss) << text;
  }
  EXPECT_NE(ParseGenerations("root = 1\nroot = 2\n").status().message().find("line 2"), std::string::npos);
}

TEST(KeyGenerations, SuffixesAndUrls) {
  EXPECT_EQ(GenerationSuffix(1), "");
  EXPECT_EQ(GenerationSuffix(12), "-g12");
  EXPECT_EQ(GenerationUrl("http://ca.example/crl/full.crl", 1), "http://ca.example/crl/full.crl");
  EXPECT_EQ(GenerationUrl("http://ca.example/crl/full.crl", 2), "http://ca.example/crl/full-g2.crl");
  EXPECT_EQ(GenerationUrl("http://ca.example/crl/full", 3), "http://ca.example/crl/full-g3");
  EXPECT_EQ(GenerationUrl("", 3), "");
}

}  // namespace
}  // namespace certvault::ca
