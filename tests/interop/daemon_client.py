#!/usr/bin/python3
"""PyKCS11 and raw-socket clients for the certvaultd scripts (Debian's /usr/bin/python3).

Subcommands (exit 0 = pass, 1 = check failed):
  signloop  sign with the key LABEL for --seconds, reopening the session and logging in again after
            an error; every error must be CKR_DEVICE_REMOVED or CKR_SESSION_HANDLE_INVALID (or
            CKR_DEVICE_REMOVED from C_OpenSession while the daemon is down). Prints "signed N" lines
            and a final "summary ok=N errors=E recovered=R"; passes if it signed after its last error.
  write     C_CreateObject CKO_DATA token objects PREFIX-i until killed or --count, printing each
            label only after CKR_OK; errors are tolerated (the daemon may be down) and retried.
  check     every label in --labels exists on the token
  hold      open --sessions sessions (one login), print "ready", wait for the file --go, then sign
            once on every session and print "done"
  target    log in, sign once with LABEL, print "ready", wait for a line on stdin (memory-scan target)
  rsaloop   log in, sign with the RSA key LABEL (CKM_SHA256_RSA_PKCS) once, print "ready", then keep
            signing until a line arrives on stdin (a target for a core dump taken during signing)
  filescan  search the file --file for each NAME=HEX of --hex (big- and little-endian); print
            "found NAME..." and exit 0 if any is present, print "absent" and exit 1 if none is
  memscan   search the memory of --pid for the private scalar --hex (big- and little-endian):
            exit 0 and print "found" if present, exit 1 and print "absent" if not
  hostile   connect to --socket as garbage / oversized-length / half-frame clients; pass if the
            daemon closes each of them within --timeout seconds
"""
import argparse
import os
import socket
import struct
import sys
import time

CKR_SESSION_HANDLE_INVALID = 0xB3
CKR_DEVICE_REMOVED = 0x32
CKR_USER_ALREADY_LOGGED_IN = 0x100
RESTART_ERRORS = {CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED}


def die(msg):
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def p11():
    import PyKCS11 as P
    return P


def load(module):
    P = p11()
    lib = P.PyKCS11Lib()
    lib.load(module)
    return P, lib


def open_logged_in(P, lib, token, pin):
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == token:
            s = lib.openSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION)
            try:
                s.login(pin)
            except P.PyKCS11Error as e:
                if e.value != CKR_USER_ALREADY_LOGGED_IN:
                    raise
            return s
    die(f"token {token!r} not found")


def find_key(P, s, label):
    keys = s.findObjects([(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_LABEL, label)])
    if len(keys) != 1:
        die(f"want one private key labelled {label!r}, found {len(keys)}")
    return keys[0]


def cmd_signloop(a):
    P, lib = load(a.module)
    session = key = None
    ok = errors = recovered = 0
    last_error_at_ok = None
    deadline = time.monotonic() + a.seconds
    while time.monotonic() < deadline:
        try:
            if session is None:
                session = open_logged_in(P, lib, a.token, a.pin)
                key = find_key(P, session, a.label)
                if last_error_at_ok is not None:
                    recovered += 1
            sig = session.sign(key, b"\x42" * 32, P.Mechanism(P.CKM_ECDSA))
            if len(sig) != 64:
                die(f"signature of {len(sig)} bytes")
            ok += 1
            if ok % 200 == 0:
                print(f"signed {ok}", flush=True)
        except P.PyKCS11Error as e:
            if e.value not in RESTART_ERRORS:
                die(f"unexpected error {e}")
            errors += 1
            last_error_at_ok = ok
            session = None  # the daemon's state is gone: reopen and log in again
            time.sleep(0.05)
    print(f"summary ok={ok} errors={errors} recovered={recovered}", flush=True)
    if last_error_at_ok is not None and ok == last_error_at_ok:
        die("never signed again after the last error")


def cmd_write(a):
    P, lib = load(a.module)
    session = None
    i = 0
    while i < a.count:
        try:
            if session is None:
                session = open_logged_in(P, lib, a.token, a.pin)
            label = f"{a.prefix}-{i}"
            session.createObject([(P.CKA_CLASS, P.CKO_DATA), (P.CKA_TOKEN, True), (P.CKA_LABEL, label),
                                  (P.CKA_VALUE, label.encode())])
            print(label, flush=True)
            i += 1
        except P.PyKCS11Error as e:
            if e.value not in RESTART_ERRORS:
                die(f"unexpected error {e}")
            session = None
            time.sleep(0.05)


def cmd_check(a):
    P, lib = load(a.module)
    s = open_logged_in(P, lib, a.token, a.pin)
    labels = [l.strip() for l in open(a.labels) if l.strip()]
    for label in labels:
        # >= 1: a create whose reply was lost in the kill may have been retried (unacknowledged copy)
        if len(s.findObjects([(P.CKA_CLASS, P.CKO_DATA), (P.CKA_LABEL, label)])) < 1:
            die(f"acknowledged object {label!r} is missing")
    print(f"ok  all {len(labels)} acknowledged objects present", flush=True)


def cmd_hold(a):
    P, lib = load(a.module)
    sessions = [open_logged_in(P, lib, a.token, a.pin)]
    slot = sessions[0].getSessionInfo().slotID
    for _ in range(a.sessions - 1):
        sessions.append(lib.openSession(slot, P.CKF_SERIAL_SESSION))
    key = find_key(P, sessions[0], a.label)
    print("ready", flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            die("no go signal")
        time.sleep(0.05)
    for s in sessions:
        if len(s.sign(key, b"\x17" * 32, P.Mechanism(P.CKM_ECDSA))) != 64:
            die("bad signature length")
    print("done", flush=True)


def cmd_target(a):
    P, lib = load(a.module)
    s = open_logged_in(P, lib, a.token, a.pin)
    key = find_key(P, s, a.label)
    for _ in range(10):
        s.sign(key, b"\x55" * 32, P.Mechanism(P.CKM_ECDSA))
    print("ready", flush=True)
    sys.stdin.readline()


def cmd_rsaloop(a):
    import select
    P, lib = load(a.module)
    s = open_logged_in(P, lib, a.token, a.pin)
    key = find_key(P, s, a.label)
    mech = P.Mechanism(P.CKM_SHA256_RSA_PKCS)
    s.sign(key, b"\x55" * 32, mech)
    print("ready", flush=True)
    while not select.select([sys.stdin], [], [], 0)[0]:
        s.sign(key, b"\x55" * 32, mech)
    sys.stdin.readline()


def cmd_filescan(a):
    needles = []
    for item in a.hex.split(","):
        name, value = item.split("=")
        b = bytes.fromhex(value)
        needles.append((name, (b, b[::-1])))
    with open(a.file, "rb") as f:
        data = f.read()
    found = [name for name, forms in needles if any(n in data for n in forms)]
    print("found " + " ".join(found) if found else "absent", flush=True)
    sys.exit(0 if found else 1)


def cmd_memscan(a):
    scalar = bytes.fromhex(a.hex)
    needles = (scalar, scalar[::-1])
    found = False
    with open(f"/proc/{a.pid}/maps") as maps, open(f"/proc/{a.pid}/mem", "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            if perms[0] != "r":
                continue
            lo, hi = (int(x, 16) for x in addr.split("-"))
            try:
                mem.seek(lo)
                chunk = mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                continue  # [vvar] and guard pages are not readable
            if any(n in chunk for n in needles):
                found = True
                break
    print("found" if found else "absent", flush=True)
    sys.exit(0 if found else 1)


def expect_closed(sock, timeout, what):
    sock.settimeout(timeout)
    try:
        while True:
            if sock.recv(4096) == b"":
                return
    except ConnectionResetError:
        return
    except socket.timeout:
        die(f"{what}: still connected after {timeout} s")


def cmd_hostile(a):
    clients = []
    for what, data in (("garbage", b"GET / HTTP/1.0\r\n\r\n" + os.urandom(64)),
                       ("oversized length", struct.pack(">IBBHH", 0x7FFFFFF0, 2, 1, 3, 0)),
                       ("unknown op", struct.pack(">IBBHH", 6, 2, 1, 0xFFFF, 0)),
                       ("half frame", struct.pack(">IBBHH", 64, 2, 1, 54, 0) + b"\x00" * 10)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(a.socket)
        s.sendall(data)
        clients.append((what, s))
    for what, s in clients:
        expect_closed(s, a.timeout, what)
        print(f"ok  {what} client disconnected", flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("signloop", "write", "check", "hold", "target", "rsaloop"):
        p = sub.add_parser(name)
        p.add_argument("--module", required=True)
        p.add_argument("--token", required=True)
        p.add_argument("--pin", required=True)
        p.add_argument("--label", default="loop-key")
        p.add_argument("--seconds", type=float, default=10)
        p.add_argument("--prefix", default="obj")
        p.add_argument("--count", type=int, default=1 << 30)
        p.add_argument("--labels")
        p.add_argument("--sessions", type=int, default=50)
        p.add_argument("--go")
    p = sub.add_parser("memscan")
    p.add_argument("--pid", required=True)
    p.add_argument("--hex", required=True)
    p = sub.add_parser("filescan")
    p.add_argument("--file", required=True)
    p.add_argument("--hex", required=True)
    p = sub.add_parser("hostile")
    p.add_argument("--socket", required=True)
    p.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
