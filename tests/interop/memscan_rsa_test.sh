#!/usr/bin/env bash
# RSA key components in certvaultd's memory (issue 11 §5): while a client signs with an RSA token
# key through the daemon, a root core dump of certvaultd (gcore) must hold none of d, p, q, dp, dq,
# qinv: key memory is the OpenSSL secure heap or otherwise locked and excluded from dumps. As a
# control, the same components ARE found by reading certvaultd's whole memory (/proc/PID/mem, which
# includes the secure heap): the scan works. And no writable mapping of certvaultd can be swapped
# out (all locked). Root and daemon mode only; needs gdb.
source "$(dirname "$0")/lib.sh"
need_daemon_mode
need_tool pkcs11-tool openssl gcore
need_python_module PyKCS11
need_python_module cryptography
[[ $(id -u) -eq 0 ]] || skip "needs root (gcore of certvaultd)"
setup_env
init_token
timeout "$T" openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/k.pem" 2>/dev/null
components=$("$PY" -c 'import sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
n = load_pem_private_key(open(sys.argv[1], "rb").read(), None).private_numbers()
h = lambda v: format(v, "x").zfill((v.bit_length() + 7) // 8 * 2)
print(",".join(f"{k}={h(v)}" for k, v in
               (("d", n.d), ("p", n.p), ("q", n.q), ("dp", n.dmp1), ("dq", n.dmq1), ("qinv", n.iqmp))))' "$WORK/k.pem")
openssl pkey -in "$WORK/k.pem" -outform DER -out "$WORK/k.der"
p11_user --write-object "$WORK/k.der" --type privkey --id 54 --label rsa-scan-key --usage-sign >/dev/null \
  || fail "importing the RSA private key"

coproc TARGET { exec "$PY" "$INTEROP_DIR/daemon_client.py" rsaloop --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" --label rsa-scan-key 2>&1; }
target_pid=$TARGET_PID
BG_PIDS+=("$target_pid")
read -r -t "$T" line <&"${TARGET[0]}" || fail "the client did not sign"
[[ $line == ready ]] || fail "client: $line"
timeout "$T" gcore -o "$WORK/core" "$DAEMON_PID" >/dev/null 2>&1 || fail "gcore of certvaultd failed"
core="$WORK/core.$DAEMON_PID"
[[ -s $core ]] || fail "gcore wrote no core file"
control=$(timeout "$T" "$PY" - "$DAEMON_PID" "$components" <<'PY' || true
import sys
pid, spec = sys.argv[1], sys.argv[2]
needles = [(k, bytes.fromhex(v)) for k, v in (i.split("=") for i in spec.split(","))]
found = set()
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        if perms[0] != "r":
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        try:
            mem.seek(lo)
            chunk = mem.read(hi - lo)
        except (OSError, ValueError, OverflowError):
            continue
        found |= {k for k, b in needles if b in chunk or b[::-1] in chunk}
print(" ".join(sorted(found)) or "none")
PY
)
# Not swappable: every writable mapping of certvaultd is locked (VmFlags "lo", mlockall).
unlocked=$(timeout "$T" "$PY" - "$DAEMON_PID" <<'PY' || true
import sys
out, head = [], None
for line in open(f"/proc/{sys.argv[1]}/smaps"):
    fields = line.split()
    if "-" in fields[0] and not fields[0].endswith(":"):  # a mapping's header line
        head = fields
    if line.startswith("VmFlags:"):
        flags = line.split()[1:]
        if "wr" in flags and "lo" not in flags:
            out.append(" ".join(head[5:]) or "[anon]")
print(" ".join(out) or "none")
PY
)
echo >&"${TARGET[1]}"
result=$(timeout "$T" "$PY" "$INTEROP_DIR/daemon_client.py" filescan --file "$core" --hex "$components" || true)
rm -f "$core"
log "certvaultd memory (control): $control; core dump: $result; writable mappings not locked: $unlocked"
[[ $unlocked == none ]] || fail "certvaultd memory that can be swapped out: $unlocked"
[[ $control == *d* && $control == *p* ]] || fail "the control scan of certvaultd's memory did not find the key ($control)"
[[ $result == absent ]] || fail "RSA key components in certvaultd's core dump: $result"
log "no RSA key component in a core dump of certvaultd taken during signing"
