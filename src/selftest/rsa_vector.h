// Copyright certvault developers. SPDX-License-Identifier: Apache-2.0
//
// The RSA-PSS self-test key and signature. The key was generated once with
// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048` for this
// purpose only; it protects nothing (it is public, like any test vector). The
// signature is `openssl dgst -sha256 -sigopt rsa_padding_mode:pss
// -sigopt rsa_pss_saltlen:32 -sign` over kRsaPssMessage.
#ifndef CERTVAULT_SELFTEST_RSA_VECTOR_H_
#define CERTVAULT_SELFTEST_RSA_VECTOR_H_

#include <string_view>

namespace certvault::selftest::internal {

inline constexpr std::string_view kRsaPssMessage = "certvault self-test RSA-PSS vector";

inline constexpr char kRsaPssKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7aTDV8ccYF4rw\n"
    "8Ogh9IqaxTarXmS1Wgx5QJ8dZCJtUkbPXDzPSPszVZx6kwVe6kMEutOTcINBa6+z\n"
    "D7QczGBi1Vl34mfCfwimvYq6zKk3jksNlqGb/Vo4b9TnDW16ZIchppvwrcXySJ38\n"
    "XJ8IH3s+Zr81rEBJfGTkTXPXzyyd7wnwcjURoLFF3FjtKRX4t+Vn0VVI5ZM1dUkC\n"
    "+HuBgpuaBIbd5GgrqBpMfl7gxTxy+oBqjGfgQaQGnkXW+ZsVURaIiVj4Zd/bErqe\n"
    "ZqYJDg926vjWWC92qtKaTU+Yv9+rww7gdPrRNq5Tbh96ljrU7bjni8krGAnzbMaz\n"
    "EQzpvwzdAgMBAAECggEALSiM8bSLeKDtpB6slMf/4Qjd4j/BzRgocswxOwwOpqCB\n"
    "ewRbC8imbQl3Reroy6TvprNc+YVOP2STJvbE+/58SDxoDVTzEyD4pPL9u4LG0KH7\n"
    "MEhIY1XSWFCMMOuhonEYRbHHmCBLVxUL6own7vVlBVWNRAHgUMTGa+PE4u7jLZ/K\n"
    "9H279d4aD8NIVO7ZOK8hjhIhaks46IY4ljHHx8c6T1ErgU/DIoyj+DGzDt1aBy6e\n"
    "kTnhw+2UHNH8V5wj5fcf0Sw9kevreaS75uWXkMfHU86G0o4UDzezwWRDyYI/Wvog\n"
    "elI3X50+7bqePXKJBJgffHu97sBuwrIS1g1+i1TNMQKBgQDkBOCa1l5RbbY7ZZvQ\n"
    "30QWCYbag1zKHB5sxRr7PFt+/awdzfj+qgno7jgNMBOHwtot+ehJhJSThly2sVUV\n"
    "2pP8AR/Sy+94bHcXktOxinX8JXsbUAtpMEGnDOXVKbWGz2SLdjH+d1VnomeSQck+\n"
    "dkJk2waAbCbtT5CpVWrbu1g/LQKBgQDSaKAbqI6OGLQfRMivTRpevkLWGPU60r8V\n"
    "Q+TSGzkQYwxEJFZIs86Ion3rMfVDSI5NLpo0qM972hNY2thsgYcWi1m9IFdFwbn4\n"
    "koKq7Ee5UkYyaYPL/Rm3ZzHPESI0K/QMYOq75h+ZPxTwfSVYK6rLzUcg5js7fuGU\n"
    "05+XuQIScQKBgF6GJxYJB9B5yrGUzaMo6vC3wk+TZUPjpDky/JxpyQQ75L32ROJN\n"
    "Ww5UsqfE5lPBUvD8SG8xpuYBLS4PFVaZ5f7x+F9Ka1tgm34KP/e5jm+YmhAYfqJ8\n"
    "frrhfeWABOB92RB3TwJONflgOc9HtkVOgPeOVIOoUfrOoQmRf1rXrx2BAoGAOpu4\n"
    "FVwzMTOCYL9ZIzNX6BIZLefPzy3K2hKKV1gL4huk3Ao/GoszOW4BoxTMW4yHTspv\n"
    "W8G14arR/ssew8KkrUvtmDe894pJ0gqFaTTdmapoMTyg4J5EnoiZIDOGkn+3wAby\n"
    "+5nTLW2b2I0TbObk8VXhvTFESINENJ9p8eovwJECgYEAow6XbUnNkg3WPQWMNAjz\n"
    "WrdUMQ2KVnkiRYQfBFSrZ1ejJlweIfPmpmTn90vlTvctQEjyaCLK2PND/wu8yKwn\n"
    "WTafB82hOiDlsrF990bRc5+Ia4JpPXhoRnbCBbcSnNHDdT4ZD8xdfve7KWbTkv5B\n"
    "keVvTJPBQ/n+c/7lE6nBLeY=\n"
    "-----END PRIVATE KEY-----\n";

inline constexpr std::string_view kRsaPssSignature =
    "ac4893255b55c7f176e72cfb0b4d3cf5453959d75a5cec647ff5e3c5c81cfa81b8a45c14bfd9b54ab1bec3046a73f0c1"
    "dc4ce9283e9cfc15773309405f49c4d574da4d416699ff869494da6efe135eef8f7ea77cdd64093f88edc7a81fa52adb"
    "57f22b0e46c837bd43e65d6415f9394ddf5ddc79fb3b242683be2ec002ae59da68cf842194a9c36bab3c9f2524d10779"
    "e4487ef9f5f65a66c3e73c52e82cbf386e8423b5d5354e12d5a64f20b10ac04c5ecec974ea490ab9cb201b9ce36e6f4e"
    "f10a256311064b747e3c4b6240581e2fc193ce86421819d4d73c1d88cdc9c27bff7709e2ff0bd791a428e62443394132"
    "aa60b79720ff4b42e7713299932299ac";

}  // namespace certvault::selftest::internal

#endif  // CERTVAULT_SELFTEST_RSA_VECTOR_H_
