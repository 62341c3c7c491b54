#!/usr/bin/env bash
# install_test.sh BUILD_DIR: `cmake --install --prefix P` lays out P/bin/certvault,
# P/lib/libcertvault-pkcs11.so (exporting only the PKCS#11 entry points) and a
# p11-kit module file naming that library.
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/certvault lib/libcertvault-pkcs11.so share/p11-kit/modules/certvault.module bin/certvaultd \
    lib/systemd/system/certvaultd.service lib/systemd/system/certvaultd.socket; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
grep -qx "module: $prefix/lib/libcertvault-pkcs11.so" "$prefix/share/p11-kit/modules/certvault.module" ||
  { echo "FAIL: module file does not name the installed library"; exit 1; }
exports=$(nm -D --defined-only "$prefix/lib/libcertvault-pkcs11.so" | awk '$2 == "T" {print $3}' | sort | tr '\n' ' ')
[ "$exports" = "C_GetFunctionList C_GetInterface C_GetInterfaceList " ] ||
  { echo "FAIL: unexpected exported functions: $exports"; exit 1; }
"$prefix/bin/certvault" --help >/dev/null 2>&1 || "$prefix/bin/certvault" help >/dev/null 2>&1 ||
  { echo "FAIL: installed certvault does not run"; exit 1; }
# The OpenSSL provider: P/lib/ossl-modules/certvault.so, exporting only OSSL_provider_init, loadable by name.
if [ -f "$build/src/provider/certvault.so" ]; then
  prov="$prefix/lib/ossl-modules/certvault.so"
  [ -f "$prov" ] || { echo "FAIL: lib/ossl-modules/certvault.so not installed"; exit 1; }
  exports=$(nm -D --defined-only "$prov" | awk '$2 == "T" {print $3}' | tr '\n' ' ')
  [ "$exports" = "OSSL_provider_init " ] || { echo "FAIL: provider exports: $exports"; exit 1; }
  OPENSSL_CONF=/dev/null CERTVAULT_HOME="$prefix/no-vault" openssl list -providers -provider-path "$prefix/lib/ossl-modules" \
    -provider certvault | grep -q "certvault provider" || { echo "FAIL: openssl cannot load the installed provider"; exit 1; }
fi
echo "install layout OK"
