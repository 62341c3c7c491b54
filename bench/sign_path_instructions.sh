#!/usr/bin/env bash
# Instructions per C_SignInit + C_Sign (ECDSA P-256, cached token key) of one or
# more PKCS#11 modules, side by side, counted by callgrind: the difference of a
# 1,100- and a 100-signature run, divided by 1,000, so start-up, login and the
# key's first load cancel out. Usage:
#   bench/sign_path_instructions.sh OLD.so NEW.so ...
# e.g. a build of the previous release against this one; prints each module's
# count and its ratio to the first.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -I. -o "$work/signloop" bench/sign_path_instructions.c -ldl
first=""
for module in "$@"; do
  vault=$(mktemp -d "$work/vault.XXXX")
  export CERTVAULT_HOME=$vault
  pkcs11-tool --module "$module" --init-token --label bench --so-pin so-pin-1234 >/dev/null 2>&1
  pkcs11-tool --module "$module" --init-pin --login --so-pin so-pin-1234 --pin userpin1 >/dev/null 2>&1
  pkcs11-tool --module "$module" --login --pin userpin1 --keypairgen --key-type EC:prime256v1 --id 21 \
    --label k --usage-sign >/dev/null 2>&1
  total() {
    valgrind --tool=callgrind --toggle-collect=SignLoop --callgrind-out-file="$work/cg.$1" \
      "$work/signloop" "$module" "$1" >/dev/null 2>&1
    callgrind_annotate "$work/cg.$1" | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
  }
  per=$(( ($(total 1100) - $(total 100)) / 1000 ))
  [[ -z "$first" ]] && first=$per
  awk -v m="$module" -v p="$per" -v f="$first" 'BEGIN { printf "%-60s %9d instructions/signature  %.4fx\n", m, p, p / f }'
done
