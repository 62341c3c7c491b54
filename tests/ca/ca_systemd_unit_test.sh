#!/usr/bin/env bash
# packaging/systemd/certvault-ca.service: `systemd-analyze verify` accepts it
# without a warning (skipped, code 77, when systemd-analyze is not installed),
# and it keeps every sandbox setting of certvaultd.service except the ones a
# TCP server cannot have (PrivateNetwork, AF_UNIX only) and mlockall's limit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
units="$here/../../packaging/systemd"
unit="$units/certvault-ca.service"
command -v systemd-analyze >/dev/null 2>&1 || { echo "SKIP: systemd-analyze not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# verify wants ExecStart's program to exist: the built one stands in for /usr/bin/certvault-ca.
bin=${CA_BIN:-/bin/true}
sed "s|/usr/bin/certvault-ca|$bin|" "$unit" >"$work/certvault-ca.service"
systemd-analyze verify "$work/certvault-ca.service" >"$work/verify.log" 2>&1 ||
  { cat "$work/verify.log"; echo "FAIL: systemd-analyze verify"; exit 1; }
if grep -F "certvault-ca.service" "$work/verify.log"; then echo "FAIL: warnings about the unit"; exit 1; fi
missing=0
while IFS= read -r line; do
  case "$line" in
    PrivateNetwork=* | RestrictAddressFamilies=* | LimitMEMLOCK=*) continue ;;
  esac
  grep -qxF -- "$line" "$unit" || { echo "FAIL: certvaultd.service has '$line', certvault-ca.service does not"; missing=1; }
done < <(sed -n '/^LimitCORE=/,/^\[Install\]/p' "$units/certvaultd.service" | grep -E '^[A-Za-z]+=')
((missing == 0)) || exit 1
grep -qx "ExecReload=/bin/kill -HUP \$MAINPID" "$unit" || { echo "FAIL: no SIGHUP reload"; exit 1; }
echo "certvault-ca.service verified"
