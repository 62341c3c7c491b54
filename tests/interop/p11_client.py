#!/usr/bin/python3
"""PyKCS11 client used by the interop scripts (run with Debian's /usr/bin/python3).

Subcommands (all take --module, --token, --pin; exit 0 = pass, 1 = check failed,
3 = the module reported an error (only for `probe`); a crash of the module shows
up as death by signal, which the calling script treats as a failure):
  basic    keygen EC P-256 / RSA-2048, sign, verify (token and `cryptography`),
           CKA_VALUE / CKA_PRIVATE_EXPONENT of sensitive keys refused
  badinput wrong PIN, invalid handles, inconsistent templates, undersized buffers,
           operations not initialized
  write    create --count CKO_DATA token objects labelled PREFIX-i, printing each
           label only after C_CreateObject returned CKR_OK (the acknowledgement)
  check    every label listed in --labels exists on the token (and --expect N
           objects with --prefix, if given)
  probe    initialize, find the token, log in, list objects, sign: must report an
           error or succeed, never crash (used on corrupted stores)
"""
import argparse
import hashlib
import sys

import PyKCS11 as P
from PyKCS11 import LowLevel as LL

CKR_ACTION_PROHIBITED = 0x1B  # PKCS#11 3.0; not in PyKCS11 1.5
CKR_NAMES = {CKR_ACTION_PROHIBITED: "CKR_ACTION_PROHIBITED"} | {v: k for k, v in P.CKR.items() if isinstance(v, int)}


def die(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def rv_name(rv):
    return CKR_NAMES.get(rv, hex(rv))


SOFTHSM = False  # set by --softhsm: tolerate SoftHSM2's known deviations, marked below


def expect_rv(what, rv, allowed, softhsm_deviates=False):
    """A misuse must be refused with one of `allowed` (never CKR_OK)."""
    if rv not in allowed and SOFTHSM and softhsm_deviates:
        print(f"known SoftHSM2 deviation  {what}: {rv_name(rv)}")
        return
    if rv not in allowed:
        die(f"{what}: got {rv_name(rv)}, want one of {[rv_name(a) for a in allowed]}")
    print(f"ok  {what}: {rv_name(rv)}")


def open_session(args, login=True):
    lib = P.PyKCS11Lib()
    lib.load(args.module)
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == args.token:
            session = lib.openSession(slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION)
            if login:
                session.login(args.pin)
            return lib, slot, session
    die(f"token {args.token!r} not found")


EC_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")


def gen_ec(session, label, token=True):
    pub = [(P.CKA_CLASS, P.CKO_PUBLIC_KEY), (P.CKA_KEY_TYPE, P.CKK_EC), (P.CKA_TOKEN, token),
           (P.CKA_VERIFY, True), (P.CKA_EC_PARAMS, EC_P256_PARAMS), (P.CKA_LABEL, label)]
    priv = [(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_KEY_TYPE, P.CKK_EC), (P.CKA_TOKEN, token),
            (P.CKA_SIGN, True), (P.CKA_PRIVATE, True), (P.CKA_SENSITIVE, True),
            (P.CKA_EXTRACTABLE, False), (P.CKA_LABEL, label)]
    return session.generateKeyPair(pub, priv, mecha=P.MechanismECGENERATEKEYPAIR)


def gen_rsa(session, label):
    pub = [(P.CKA_CLASS, P.CKO_PUBLIC_KEY), (P.CKA_KEY_TYPE, P.CKK_RSA), (P.CKA_TOKEN, True),
           (P.CKA_VERIFY, True), (P.CKA_MODULUS_BITS, 2048),
           (P.CKA_PUBLIC_EXPONENT, (0x01, 0x00, 0x01)), (P.CKA_LABEL, label)]
    priv = [(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_KEY_TYPE, P.CKK_RSA), (P.CKA_TOKEN, True),
            (P.CKA_SIGN, True), (P.CKA_PRIVATE, True), (P.CKA_SENSITIVE, True),
            (P.CKA_EXTRACTABLE, False), (P.CKA_LABEL, label)]
    return session.generateKeyPair(pub, priv, mecha=P.MechanismRSAGENERATEKEYPAIR)


def raw_get_attr(session, obj, attr_type, size=0):
    """C_GetAttributeValue for one attribute; size>0 passes a buffer of that size."""
    tmpl = LL.ckattrlist(1)
    if size:
        tmpl[0].SetBin(attr_type, LL.ckbytelist([0] * size))
    else:
        tmpl[0].SetType(attr_type)
    return session.lib.C_GetAttributeValue(session.session, obj, tmpl)


def verify_externally(session, pub, kind, data, sig):
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
    except ImportError:
        print("note: python3-cryptography missing, external verification skipped")
        return
    if kind == "ec":
        point = bytes(session.getAttributeValue(pub, [P.CKA_EC_POINT], True)[0])
        if point[0] == 0x04 and len(point) == 67:  # DER OCTET STRING wrapping
            point = point[2:]
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        half = len(sig) // 2
        der = utils.encode_dss_signature(int.from_bytes(sig[:half], "big"),
                                         int.from_bytes(sig[half:], "big"))
        key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    else:
        n, e = session.getAttributeValue(pub, [P.CKA_MODULUS, P.CKA_PUBLIC_EXPONENT], True)
        key = rsa.RSAPublicNumbers(int.from_bytes(bytes(e), "big"),
                                   int.from_bytes(bytes(n), "big")).public_key()
        key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    print(f"ok  {kind} signature verified by python3-cryptography")


def check_large_single_part(s, pub, priv):
    """5 MiB in one C_Sign and one C_Verify: over certvaultd's frame limit, so in daemon mode they go in parts."""
    big = bytes(range(256)) * (5 * 4096)
    mech = P.Mechanism(P.CKM_SHA256_RSA_PKCS)
    sig = bytes(s.sign(priv, big, mech))
    if not s.verify(pub, big, sig, mech):
        die("rsa: token rejects its own signature over 5 MiB")
    verify_externally(s, pub, "rsa", big, sig)
    print("ok  5 MiB single-part C_Sign and C_Verify")


def cmd_basic(args):
    lib, slot, s = open_session(args)
    data = b"certvault interop " * 10
    # SoftHSM2 2.6 has no CKM_ECDSA_SHA256; CKM_ECDSA over a digest is what
    # libp11 and NSS use anyway.
    ec_mech = P.CKM_ECDSA_SHA256 if P.CKM_ECDSA_SHA256 in lib.getMechanismList(slot) else P.CKM_ECDSA
    cases = [("ec", gen_ec(s, "py-ec"), P.Mechanism(ec_mech)),
             ("rsa", gen_rsa(s, "py-rsa"), P.Mechanism(P.CKM_SHA256_RSA_PKCS))]
    for kind, (pub, priv), mech in cases:
        msg = data if mech.to_native().mechanism != P.CKM_ECDSA else hashlib.sha256(data).digest()
        sig = bytes(s.sign(priv, msg, mech))
        if not s.verify(pub, msg, sig, mech):
            die(f"{kind}: token rejects its own signature")
        bad = bytearray(sig)
        bad[len(bad) // 2] ^= 0x01
        try:
            if s.verify(pub, msg, bytes(bad), mech):
                die(f"{kind}: bit-flipped signature verified")
        except P.PyKCS11Error as e:
            if e.value != P.CKR_SIGNATURE_INVALID:
                die(f"{kind}: bit-flipped signature gave {rv_name(e.value)}")
        verify_externally(s, pub, kind, data, sig)
        secret = P.CKA_VALUE if kind == "ec" else P.CKA_PRIVATE_EXPONENT
        expect_rv(f"{kind} sensitive {P.CKA[secret]} read", raw_get_attr(s, priv, secret),
                  [P.CKR_ATTRIBUTE_SENSITIVE])
        found = s.findObjects([(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_LABEL, f"py-{kind}")])
        if len(found) != 1:
            die(f"{kind}: C_FindObjects by label found {len(found)} keys")
    check_large_single_part(s, *cases[1][1])
    check_private_data_update(s)
    s.logout()
    if s.findObjects([(P.CKA_CLASS, P.CKO_PRIVATE_KEY)]):
        die("private keys visible after C_Logout")
    print("ok  private keys hidden after logout")


def check_private_data_update(s):
    """C_SetAttributeValue(CKA_VALUE) of a private token data object reads back."""
    obj = s.createObject([(P.CKA_CLASS, P.CKO_DATA), (P.CKA_TOKEN, True), (P.CKA_PRIVATE, True),
                          (P.CKA_LABEL, "py-private-data"), (P.CKA_VALUE, b"first value")])
    s.setAttributeValue(obj, [(P.CKA_VALUE, b"second, longer value")])
    got = bytes(s.getAttributeValue(obj, [P.CKA_VALUE], allAsBinary=True)[0])
    if got != b"second, longer value":
        die(f"private data object: CKA_VALUE after C_SetAttributeValue reads {got!r}")
    s.destroyObject(obj)
    print("ok  private data object value changed and read back")


def check_sign_buffer_too_small(s, priv):
    """PKCS#11 3.0 5.2: on CKR_BUFFER_TOO_SMALL the operation stays active."""
    rv = s.lib.C_SignInit(s.session, P.Mechanism(P.CKM_ECDSA).to_native(), priv)
    expect_rv("C_SignInit", rv, [P.CKR_OK])
    digest = LL.ckbytelist(hashlib.sha256(b"x").digest())
    small = LL.ckbytelist([0] * 8)
    expect_rv("C_Sign into an 8-byte buffer", s.lib.C_Sign(s.session, digest, small),
              [P.CKR_BUFFER_TOO_SMALL])
    sig = LL.ckbytelist()
    expect_rv("C_Sign length query after BUFFER_TOO_SMALL", s.lib.C_Sign(s.session, digest, sig),
              [P.CKR_OK])
    expect_rv("C_Sign after BUFFER_TOO_SMALL", s.lib.C_Sign(s.session, digest, sig), [P.CKR_OK])
    if len(sig) != 64:
        die(f"P-256 signature length {len(sig)}, want 64")
    expect_rv("C_Sign after the operation ended", s.lib.C_Sign(s.session, digest, LL.ckbytelist()),
              [P.CKR_OPERATION_NOT_INITIALIZED])


def check_invalid_handles(s, priv):
    bad_obj = LL.CK_OBJECT_HANDLE()
    bad_obj.assign(0x7ffffff0)
    expect_rv("C_GetAttributeValue on a bogus object", raw_get_attr(s, bad_obj, P.CKA_LABEL),
              [P.CKR_OBJECT_HANDLE_INVALID])
    expect_rv("C_SignInit with a bogus key",
              s.lib.C_SignInit(s.session, P.Mechanism(P.CKM_ECDSA).to_native(), bad_obj),
              [P.CKR_KEY_HANDLE_INVALID, P.CKR_OBJECT_HANDLE_INVALID])
    expect_rv("C_DestroyObject on a bogus object", s.lib.C_DestroyObject(s.session, bad_obj),
              [P.CKR_OBJECT_HANDLE_INVALID])
    bad_session = LL.CK_SESSION_HANDLE()
    bad_session.assign(0x7ffffff1)
    expect_rv("C_SignInit on a bogus session",
              s.lib.C_SignInit(bad_session, P.Mechanism(P.CKM_ECDSA).to_native(), priv),
              [P.CKR_SESSION_HANDLE_INVALID])
    expect_rv("C_CloseSession on a bogus session", s.lib.C_CloseSession(bad_session),
              [P.CKR_SESSION_HANDLE_INVALID])
    expect_rv("C_SignInit with an unknown mechanism",
              s.lib.C_SignInit(s.session, P.Mechanism(0x7ffffff2).to_native(), priv),
              [P.CKR_MECHANISM_INVALID])
    expect_rv("C_Sign without C_SignInit",
              s.lib.C_Sign(s.session, LL.ckbytelist(b"x" * 32), LL.ckbytelist()),
              [P.CKR_OPERATION_NOT_INITIALIZED])
    expect_rv("C_SignInit RSA mechanism with an EC key",
              s.lib.C_SignInit(s.session, P.Mechanism(P.CKM_SHA256_RSA_PKCS).to_native(), priv),
              [P.CKR_KEY_TYPE_INCONSISTENT, P.CKR_MECHANISM_INVALID], softhsm_deviates=True)


def try_template(s, what, call, allowed, softhsm_deviates=False):
    try:
        call()
    except P.PyKCS11Error as e:
        expect_rv(what, e.value, allowed, softhsm_deviates)
        return
    if SOFTHSM and softhsm_deviates:
        print(f"known SoftHSM2 deviation  {what}: accepted")
        return
    die(f"{what}: accepted")


def check_templates(s, pub):
    bad = [P.CKR_TEMPLATE_INCONSISTENT, P.CKR_ATTRIBUTE_VALUE_INVALID, P.CKR_ATTRIBUTE_TYPE_INVALID,
           P.CKR_TEMPLATE_INCOMPLETE, P.CKR_CURVE_NOT_SUPPORTED, P.CKR_DOMAIN_PARAMS_INVALID]
    ec_pub = [(P.CKA_CLASS, P.CKO_PUBLIC_KEY), (P.CKA_KEY_TYPE, P.CKK_EC), (P.CKA_TOKEN, False)]
    ec_priv = [(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_KEY_TYPE, P.CKK_EC), (P.CKA_TOKEN, False)]
    try_template(s, "EC keygen without CKA_EC_PARAMS",
                 lambda: s.generateKeyPair(ec_pub, ec_priv, mecha=P.MechanismECGENERATEKEYPAIR), bad)
    try_template(s, "EC keygen with garbage CKA_EC_PARAMS",
                 lambda: s.generateKeyPair(ec_pub + [(P.CKA_EC_PARAMS, b"\x06\x03\x2a\xff\xff")],
                                           ec_priv, mecha=P.MechanismECGENERATEKEYPAIR), bad,
                 softhsm_deviates=True)
    try_template(s, "EC keygen with an RSA key type in the private template",
                 lambda: s.generateKeyPair(ec_pub + [(P.CKA_EC_PARAMS, EC_P256_PARAMS)],
                                           [(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_KEY_TYPE, P.CKK_RSA)],
                                           mecha=P.MechanismECGENERATEKEYPAIR), bad)
    try_template(s, "C_CreateObject without CKA_CLASS",
                 lambda: s.createObject([(P.CKA_LABEL, "no-class"), (P.CKA_VALUE, b"x")]), bad)
    try_template(s, "C_CreateObject with a bogus CKA_CLASS",
                 lambda: s.createObject([(P.CKA_CLASS, 0x7ffffff3), (P.CKA_LABEL, "x")]), bad)
    try_template(s, "C_SetAttributeValue making a public key's CKA_CLASS private",
                 lambda: s.setAttributeValue(pub, [(P.CKA_CLASS, P.CKO_PRIVATE_KEY)]),
                 bad + [P.CKR_ATTRIBUTE_READ_ONLY, CKR_ACTION_PROHIBITED])


def check_attribute_buffer(s, pub):
    label = bytes(s.getAttributeValue(pub, [P.CKA_LABEL], True)[0])
    if len(label) < 3:
        die("label too short for the undersized-buffer check")
    expect_rv("C_GetAttributeValue(CKA_LABEL) into a 2-byte buffer", raw_get_attr(s, pub, P.CKA_LABEL, 2),
              [P.CKR_BUFFER_TOO_SMALL])


def check_wrong_pin(args):
    lib, slot, s = open_session(args, login=False)
    for pin in ["definitely-wrong", "x" * 300]:
        try:
            s.login(pin)
            die(f"wrong PIN of length {len(pin)} accepted")
        except P.PyKCS11Error as e:
            expect_rv(f"C_Login with a wrong PIN of length {len(pin)}", e.value,
                      [P.CKR_PIN_INCORRECT, P.CKR_PIN_LEN_RANGE])
    s.login(args.pin)  # the correct PIN resets the counter
    print("ok  correct PIN accepted after wrong ones")
    try:
        s.login(args.pin)
        die("second C_Login accepted")
    except P.PyKCS11Error as e:
        expect_rv("C_Login while logged in", e.value, [P.CKR_USER_ALREADY_LOGGED_IN])
    return s


def cmd_badinput(args):
    s = check_wrong_pin(args)
    pub, priv = gen_ec(s, "bad-input-ec", token=False)
    check_sign_buffer_too_small(s, priv)
    check_invalid_handles(s, priv)
    check_templates(s, pub)
    check_attribute_buffer(s, pub)


def cmd_write(args):
    _, _, s = open_session(args)
    for i in range(args.count):
        label = f"{args.prefix}-{i}"
        s.createObject([(P.CKA_CLASS, P.CKO_DATA), (P.CKA_TOKEN, True), (P.CKA_PRIVATE, False),
                        (P.CKA_LABEL, label), (P.CKA_VALUE, label.encode() * 4)])
        print(label, flush=True)  # acknowledged only now


def cmd_check(args):
    _, _, s = open_session(args)
    present = set()
    for obj in s.findObjects([(P.CKA_CLASS, P.CKO_DATA)]):
        label, value = s.getAttributeValue(obj, [P.CKA_LABEL, P.CKA_VALUE], True)
        label = bytes(label).decode()
        if bytes(value) != label.encode() * 4:
            die(f"object {label}: CKA_VALUE corrupted")
        present.add(label)
    with open(args.labels) as f:
        acked = [line.strip() for line in f if line.strip()]
    missing = [label for label in acked if label not in present]
    if missing:
        die(f"{len(missing)} of {len(acked)} acknowledged objects lost, e.g. {missing[:5]}")
    print(f"ok  all {len(acked)} acknowledged objects present ({len(present)} data objects)")
    if args.expect is not None:
        n = sum(1 for label in present if label.startswith(args.prefix + "-"))
        if n != args.expect:
            die(f"{n} objects with prefix {args.prefix}, want {args.expect}")


def cmd_probe(args):
    try:
        lib, slot, s = open_session(args)
        objs = s.findObjects([])
        keys = s.findObjects([(P.CKA_CLASS, P.CKO_PRIVATE_KEY), (P.CKA_KEY_TYPE, P.CKK_EC)])
        for key in keys:
            s.sign(key, hashlib.sha256(b"probe").digest(), P.Mechanism(P.CKM_ECDSA))
        print(f"probe: token usable, {len(objs)} objects, {len(keys)} EC keys signed")
        return 0
    except P.PyKCS11Error as e:
        print(f"probe: module reported {e}")
        return 3
    except SystemExit as e:
        if e.code == 1:
            print("probe: token not present")
            return 3
        raise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["basic", "badinput", "write", "check", "probe"])
    ap.add_argument("--module", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pin", required=True)
    ap.add_argument("--prefix", default="obj")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--labels")
    ap.add_argument("--expect", type=int)
    ap.add_argument("--softhsm", action="store_true", help="tolerate SoftHSM2's known deviations")
    args = ap.parse_args()
    global SOFTHSM
    SOFTHSM = args.softhsm
    handlers = {"basic": cmd_basic, "badinput": cmd_badinput, "write": cmd_write,
                "check": cmd_check, "probe": cmd_probe}
    sys.exit(handlers[args.command](args) or 0)


if __name__ == "__main__":
    main()
