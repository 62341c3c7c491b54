#!/usr/bin/env bash
# install_manifest_test.sh BUILD_DIR: `cmake --install` writes
# share/certvault/SHA256SUMS over the installed binaries and modules; the
# installed programs pass their integrity self-test against it, and a binary
# altered after installation fails it: `certvault selftest` reports it,
# certvault-ca refuses service, the provider does not load.
set -uo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null || { echo "FAIL: install"; exit 1; }
sums="$prefix/share/certvault/SHA256SUMS"
[ -s "$sums" ] || { echo "FAIL: no manifest"; exit 1; }
for f in bin/certvault bin/certvaultd lib/libcertvault-pkcs11.so; do
  grep -q "  $f\$" "$sums" || { echo "FAIL: $f not in the manifest"; exit 1; }
done
(cd "$prefix" && sha256sum --quiet -c "$sums") || { echo "FAIL: manifest digests"; exit 1; }

"$prefix/bin/certvault" selftest >/dev/null || { echo "FAIL: installed certvault selftest"; exit 1; }
if [ -x "$prefix/bin/certvault-ca" ]; then
  "$prefix/bin/certvault-ca" selftest >/dev/null || { echo "FAIL: installed certvault-ca selftest"; exit 1; }
fi

# Alter the installed binaries after the fact (appending keeps them runnable).
for f in bin/certvault bin/certvault-ca lib/ossl-modules/certvault.so; do
  [ -f "$prefix/$f" ] && printf 'x' >>"$prefix/$f"
done
out=$("$prefix/bin/certvault" selftest --json) && { echo "FAIL: altered certvault passes"; exit 1; }
echo "$out" | grep -q '"name":"integrity","ok":false' || { echo "FAIL: integrity not reported: $out"; exit 1; }
if [ -x "$prefix/bin/certvault-ca" ]; then
  "$prefix/bin/certvault-ca" --dir "$prefix" profiles 2>"$prefix/err" && { echo "FAIL: altered CA serves"; exit 1; }
  grep -q "error state: integrity" "$prefix/err" || { echo "FAIL: CA reason: $(cat "$prefix/err")"; exit 1; }
fi
if [ -f "$prefix/lib/ossl-modules/certvault.so" ]; then
  OPENSSL_CONF=/dev/null CERTVAULT_HOME="$prefix/no-vault" openssl list -providers -provider-path \
    "$prefix/lib/ossl-modules" -provider certvault >/dev/null 2>&1 && { echo "FAIL: altered provider loads"; exit 1; }
fi
echo "install manifest OK"
