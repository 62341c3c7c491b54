#!/usr/bin/env bash
# Robustness of $MODULE against bad input and bad luck:
#  1. API misuse through PyKCS11 (p11_client.py badinput): wrong PINs, invalid
#     session/object handles, inconsistent templates, undersized buffers.
#  2. Two processes creating token objects at once: both succeed, nothing lost.
#  3. kill -9 during a burst of C_CreateObject: every acknowledged object (its
#     label was printed after CKR_OK) is there afterwards.
#  4. A truncated and bit-flipped store ($CERTVAULT_HOME/vault.db; for SoftHSM2
#     its largest token file): the module reports an error or no token, or
#     still works, but never crashes or hangs.
source "$(dirname "$0")/lib.sh"
need_tool pkcs11-tool
need_python_module PyKCS11
setup_env
init_token
client() { timeout "$T" "$PY" "$INTEROP_DIR/p11_client.py" "$1" --module "$MODULE" \
  --token "$TOKEN_LABEL" --pin "$USER_PIN" "${@:2}"; }
p11_user --keypairgen --key-type EC:prime256v1 --id 31 --label probe-ec --usage-sign >/dev/null \
  || fail "EC keygen"

log "1. API misuse"
if is_softhsm; then softhsm_flag=--softhsm; else softhsm_flag=; fi
client badinput $softhsm_flag || fail "bad-input checks (exit $?)"

log "2. two processes writing at once"
client write --prefix left --count 150 >"$WORK/left.acked" &
left=$!
client write --prefix right --count 150 >"$WORK/right.acked" &
right=$!
wait "$left" || fail "writer 'left' failed while another process wrote (exit $?)"
wait "$right" || fail "writer 'right' failed while another process wrote (exit $?)"
client check --labels "$WORK/left.acked" --prefix left --expect 150 || fail "objects of 'left' lost"
client check --labels "$WORK/right.acked" --prefix right --expect 150 || fail "objects of 'right' lost"

log "3. kill -9 during a burst of writes"
# exec: $! must be the python process itself, not a subshell or `timeout`.
(exec "$PY" "$INTEROP_DIR/p11_client.py" write --module "$MODULE" --token "$TOKEN_LABEL" \
  --pin "$USER_PIN" --prefix burst --count 100000 >"$WORK/burst.acked") &
burst=$!
BG_PIDS+=("$burst")
wait_for_line "$WORK/burst.acked" "^burst-49$" 60 || fail "writer did not acknowledge 50 objects in 60 s"
sleep 0.3
kill -9 "$burst"
wait "$burst" 2>/dev/null || true
acked=$(wc -l <"$WORK/burst.acked")
log "killed the writer after $acked acknowledged objects"
client check --labels "$WORK/burst.acked" || fail "acknowledged objects lost after kill -9"
client write --prefix after-kill --count 5 >/dev/null || fail "store not writable after kill -9"

log "4. corrupted store"
if is_softhsm; then
  STORE_DIR="$WORK/softhsm-tokens"
  TARGET="$(find "$STORE_DIR" -type f -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)"
else
  STORE_DIR="$CERTVAULT_HOME"
  TARGET="$CERTVAULT_HOME/vault.db"
fi
[[ -s "$TARGET" ]] || fail "store file $TARGET missing or empty"
cp -a "$STORE_DIR" "$WORK/pristine"
size=$(stat -c %s "$TARGET")
log "corrupting $TARGET ($size bytes)"
flip_byte() {  # FILE OFFSET: xor one byte with 0x5a
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 0x5a)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
run_probe() {  # WHAT: the module may fail (3) or work (0), never crash or hang
  local rc=0
  client probe >"$WORK/probe.out" 2>&1 || rc=$?
  case $rc in
    0|3) log "  $1: $(tail -1 "$WORK/probe.out")" ;;
    *) cat "$WORK/probe.out" >&2; fail "$1: probe crashed or hung (exit $rc)" ;;
  esac
}
for variant in "truncate:$((size / 2))" "truncate:100" "truncate:0" "flip:18" "flip:100" \
    "flip:$((size / 3))" "flip:$((size / 2))" "flip:$((size * 9 / 10))" "flip:$((size - 1))"; do
  rm -rf "$STORE_DIR" && cp -a "$WORK/pristine" "$STORE_DIR"
  kind=${variant%%:*} off=${variant#*:}
  if [[ $kind == truncate ]]; then truncate -s "$off" "$TARGET"; else flip_byte "$TARGET" "$off"; fi
  run_probe "$kind at $off"
done
rm -rf "$STORE_DIR" && cp -a "$WORK/pristine" "$STORE_DIR"
client probe >/dev/null || fail "restored pristine store no longer works"
