#!/usr/bin/env bash
# Installs the Debian 12 packages certvault needs to build and test (only the missing ones).
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config openssl libssl-dev libsqlite3-dev sqlite3 libargon2-dev
      libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
      opensc softhsm2 gnutls-bin libengine-pkcs11-openssl python3 python3-pykcs11 libnss3-tools p11-kit)
PKGS+=(nginx-light mosquitto mosquitto-clients curl)  # OpenSSL provider interop tests
missing=()
PKGS+=(libmicrohttpd-dev libpq-dev postgresql libcpptoml-dev python3-cryptography curl libcli11-dev faketime)  # certvault-ca
PKGS+=(strongswan-pki libstrongswan-standard-plugins libstrongswan-extra-plugins)  # certvault-ca serve: pki --est
PKGS+=(libgfshare-dev)  # Shamir k-of-n for the quorum (src/quorum/shamir.h)
PKGS+=(bc)  # bench/ scripts: the ratios they print
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
