#!/usr/bin/env bash
# Key isolation: the private scalar of a token key in the memory of an application process
# (/proc/PID/mem of a PyKCS11 client that has just signed with the key).
#  - embedded mode: the module parsed the key in-process, so the scan MUST find the scalar
#    (proves the scan works; this is what certvaultd exists to prevent);
#  - daemon mode (CV_BACKEND=daemon): the scan must NOT find it; and where the daemon's memory
#    can be read (root), the same scan finds it there.
# The key is imported by another process (pkcs11-tool) from a PEM file the script generates, so
# the scanned client never had the scalar from outside the module.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool openssl
need_python_module PyKCS11
need_python_module cryptography
is_softhsm && skip "certvault-specific"
setup_env
init_token
timeout "$T" openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/k.pem" 2>/dev/null
scalar=$("$PY" -c 'import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
k = load_pem_private_key(open(sys.argv[1], "rb").read(), None)
print("%064x" % k.private_numbers().private_value)' "$WORK/k.pem")
[[ ${#scalar} -eq 64 ]] || fail "could not read the private scalar (${#scalar} hex digits)"
openssl pkey -in "$WORK/k.pem" -outform DER -out "$WORK/k.der"
p11_user --write-object "$WORK/k.der" --type privkey --id 53 --label scan-key --usage-sign >/dev/null \
  || fail "importing the private key"

coproc TARGET { exec "$PY" "$INTEROP_DIR/daemon_client.py" target --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" --label scan-key 2>&1; }
target_pid=$TARGET_PID
BG_PIDS+=("$target_pid")
read -r -t "$T" line <&"${TARGET[0]}" || fail "the client did not sign"
[[ $line == ready ]] || fail "client: $line"
scan() { timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" memscan --pid "$1" --hex "$scalar"; }
result=$(scan "$target_pid" || true)
echo >&"${TARGET[1]}"
if [[ "${CV_BACKEND:-embedded}" == daemon ]]; then
  [[ $result == absent ]] || fail "daemon mode: the private scalar is in the client's memory ($result)"
  log "daemon mode: scalar absent from the client (pid $target_pid)"
  if [[ -r /proc/$DAEMON_PID/mem ]] && daemon_result=$(scan "$DAEMON_PID" 2>/dev/null); then
    log "the same scan finds it in certvaultd (pid $DAEMON_PID): $daemon_result"
  else
    log "certvaultd's memory is not readable here (not dumpable); skipped that cross-check"
  fi
else
  [[ $result == found ]] || fail "embedded mode: the scan did not find the scalar ($result): the scan would pass vacuously"
  log "embedded mode: scalar found in the client (pid $target_pid), as expected"
fi
