#!/usr/bin/env bash
# manifest_sign_test.sh SOURCE_DIR: cmake/write_manifest.cmake with
# CV_MANIFEST_SIGNING_KEY set to a throwaway key (Ed25519 and ECDSA P-256)
# writes SHA256SUMS.sig that the openssl CLI verifies with the public key;
# without the option it writes no signature and removes a stale one; an
# unreadable key fails the install.
set -uo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/prefix/bin" "$work/prefix/share/certvault"
echo binary >"$work/prefix/bin/prog"
install_manifest() {  # install_manifest [KEY]
  "${CMAKE:-cmake}" -DCMAKE_INSTALL_PREFIX="$work/prefix" -DCV_MANIFEST_FILES=bin/prog -DCV_MANIFEST_SIGNING_KEY="${1:-}" \
    -P "$src/cmake/write_manifest.cmake" >"$work/out" 2>&1
}
sums="$work/prefix/share/certvault/SHA256SUMS"
for alg in ED25519 EC; do
  opts=()
  [ "$alg" = EC ] && opts=(-pkeyopt ec_paramgen_curve:P-256)
  openssl genpkey -algorithm "$alg" "${opts[@]}" -out "$work/key.pem" 2>/dev/null || { echo "FAIL: genpkey"; exit 1; }
  openssl pkey -in "$work/key.pem" -pubout -out "$work/pub.pem"
  install_manifest "$work/key.pem" || { cat "$work/out"; echo "FAIL: signed install ($alg)"; exit 1; }
  [ -s "$sums.sig" ] || { echo "FAIL: no signature ($alg)"; exit 1; }
  if [ "$alg" = ED25519 ]; then
    verify=(openssl pkeyutl -verify -rawin -pubin -inkey "$work/pub.pem" -in "$sums" -sigfile "$sums.sig")
  else
    verify=(openssl dgst -sha256 -verify "$work/pub.pem" -signature "$sums.sig" "$sums")
  fi
  "${verify[@]}" >/dev/null || { echo "FAIL: signature does not verify ($alg)"; exit 1; }
  echo "tampered" >>"$sums"
  "${verify[@]}" >/dev/null 2>&1 && { echo "FAIL: a changed manifest verifies ($alg)"; exit 1; }
done
install_manifest || { cat "$work/out"; echo "FAIL: unsigned install"; exit 1; }
[ -e "$sums.sig" ] && { echo "FAIL: a stale signature was left"; exit 1; }
install_manifest "$work/missing.pem" && { echo "FAIL: a missing key did not fail the install"; exit 1; }
echo "manifest signing OK"
