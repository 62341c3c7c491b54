#!/usr/bin/env bash
# Builds certvault and runs the end-to-end demo on an embedded vault in a temporary directory:
# the CLI, the OpenSSL provider under an unmodified openssl s_server, and the private CA.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCV_BUILD_TESTS=OFF -DCV_BUILD_BENCH=OFF >/dev/null
cmake --build build --target certvault certvault-pkcs11 certvault-provider certvault-ca
exec bash cli/demo.sh build/cli/certvault
