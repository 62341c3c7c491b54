#!/usr/bin/python3
"""PyKCS11 checks of the PKCS#11 behaviour clients rely on (issue 11 §4).

Run with Debian's /usr/bin/python3 by client_behaviour_test.sh:
  p11_behaviour.py --module M --token T --pin P
Every result computed by the token is checked against python3-cryptography:
  - CKM_AES_ECB, CKM_AES_CBC (no padding), CKM_AES_CTR, CKM_AES_CMAC;
  - CKM_RSA_X_509 sign / verify / encrypt / decrypt (raw RSA);
  - CKM_AES_GCM with ulIvLen=16, ulIvBits=64;
  - CKA_ALWAYS_AUTHENTICATE: C_Sign without C_Login(CKU_CONTEXT_SPECIFIC) is
    CKR_USER_NOT_LOGGED_IN, with it the signature verifies;
  - CKA_ALLOWED_MECHANISMS of a key created without it: an empty array;
  - the mechanism list reports the new mechanisms with their flags and sizes.
Exit 0 = pass, 1 = a check failed.
"""
import argparse
import ctypes
import os
import struct
import sys

import PyKCS11 as P
from p11_check import check, expect_error, open_session
from cryptography.hazmat.primitives import cmac, hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def aes_key(session, label, value):
    return session.createObject([
        (P.CKA_CLASS, P.CKO_SECRET_KEY), (P.CKA_KEY_TYPE, P.CKK_AES), (P.CKA_TOKEN, False),
        (P.CKA_LABEL, label), (P.CKA_VALUE, value), (P.CKA_ENCRYPT, True), (P.CKA_DECRYPT, True),
        (P.CKA_SIGN, True), (P.CKA_VERIFY, True)])


def check_mechanism_list(lib, slot):
    want = {"CKM_AES_ECB": (16, 32, P.CKF_ENCRYPT | P.CKF_DECRYPT),
            "CKM_AES_CBC": (16, 32, P.CKF_ENCRYPT | P.CKF_DECRYPT),
            "CKM_AES_CTR": (16, 32, P.CKF_ENCRYPT | P.CKF_DECRYPT),
            "CKM_AES_CMAC": (16, 32, P.CKF_SIGN | P.CKF_VERIFY),
            "CKM_RSA_X_509": (2048, 8192, P.CKF_SIGN | P.CKF_VERIFY | P.CKF_ENCRYPT | P.CKF_DECRYPT)}
    listed = lib.getMechanismList(slot)
    for name, (lo, hi, flags) in want.items():
        check(name in listed, f"{name} in C_GetMechanismList")
        info = lib.getMechanismInfo(slot, name)
        check((info.ulMinKeySize, info.ulMaxKeySize, info.flags & flags) == (lo, hi, flags),
              f"{name} info: sizes {info.ulMinKeySize}..{info.ulMaxKeySize}, flags {hex(info.flags)}")


def check_aes_modes(session):
    key_bytes, iv, data = os.urandom(32), os.urandom(16), os.urandom(64)
    key = aes_key(session, "aes-modes", key_bytes)
    counter = bytes(8) + os.urandom(7) + b"\x00"
    cases = [("ECB", P.Mechanism(P.CKM_AES_ECB, None), modes.ECB()),
             ("CBC", P.Mechanism(P.CKM_AES_CBC, iv), modes.CBC(iv)),
             # CK_AES_CTR_PARAMS: CK_ULONG ulCounterBits, CK_BYTE cb[16]
             ("CTR", P.Mechanism(P.CKM_AES_CTR, struct.pack("=Q16s", 128, counter)), modes.CTR(counter))]
    for name, mech, mode in cases:
        enc = Cipher(algorithms.AES(key_bytes), mode).encryptor()
        expected = enc.update(data) + enc.finalize()
        got = bytes(session.encrypt(key, data, mech))
        check(got == expected, f"AES-{name} C_Encrypt equals cryptography's")
        check(bytes(session.decrypt(key, got, mech)) == data, f"AES-{name} C_Decrypt round trip")
    expect_error("AES-CBC of 17 bytes", "CKR_DATA_LEN_RANGE",
                 lambda: session.encrypt(key, data[:17], P.Mechanism(P.CKM_AES_CBC, iv)))
    c = cmac.CMAC(algorithms.AES(key_bytes))
    c.update(data[:40])
    mac = bytes(session.sign(key, data[:40], P.Mechanism(P.CKM_AES_CMAC, None)))
    check(mac == c.finalize(), "AES-CMAC C_Sign equals cryptography's")
    check(session.verify(key, data[:40], mac, P.Mechanism(P.CKM_AES_CMAC, None)), "AES-CMAC C_Verify")
    check_gcm_iv_bits(session, key, key_bytes)


def check_gcm_iv_bits(session, key, key_bytes):
    # CK_GCM_PARAMS by hand: PyKCS11 fills ulIvBits itself.
    iv, aad, data = os.urandom(16), b"header", b"gcm payload"
    iv_buf, aad_buf = ctypes.create_string_buffer(iv, 16), ctypes.create_string_buffer(aad, len(aad))
    params = struct.pack("@PQQPQQ", ctypes.addressof(iv_buf), 16, 64, ctypes.addressof(aad_buf), len(aad), 128)
    got = bytes(session.encrypt(key, data, P.Mechanism(P.CKM_AES_GCM, params)))
    check(got == AESGCM(key_bytes).encrypt(iv, data, aad), "AES-GCM with ulIvLen=16, ulIvBits=64")


def check_rsa_x509(session):
    pub, priv = session.generateKeyPair(
        [(P.CKA_TOKEN, False), (P.CKA_MODULUS_BITS, 2048), (P.CKA_VERIFY, True), (P.CKA_ENCRYPT, True)],
        [(P.CKA_TOKEN, False), (P.CKA_SIGN, True), (P.CKA_DECRYPT, True)],
        mecha=P.MechanismRSAGENERATEKEYPAIR)
    n_bytes, e_bytes = session.getAttributeValue(pub, [P.CKA_MODULUS, P.CKA_PUBLIC_EXPONENT], allAsBinary=True)
    n, e = int.from_bytes(bytes(n_bytes), "big"), int.from_bytes(bytes(e_bytes), "big")
    raw = P.Mechanism(P.CKM_RSA_X_509, None)
    block = b"\x00\x01" + b"\xff" * 200 + b"\x00" + os.urandom(53)
    sig = bytes(session.sign(priv, block, raw))
    check(len(sig) == 256 and pow(int.from_bytes(sig, "big"), e, n) == int.from_bytes(block, "big"),
          "RSA_X_509 C_Sign is the raw private-key operation")
    check(session.verify(pub, block, sig, raw), "RSA_X_509 C_Verify")
    msg = b"raw message"
    ct = bytes(session.encrypt(pub, msg, raw))
    check(int.from_bytes(ct, "big") == pow(int.from_bytes(msg, "big"), e, n), "RSA_X_509 C_Encrypt is m^e mod n")
    check(bytes(session.decrypt(priv, ct, raw)) == bytes(256 - len(msg)) + msg, "RSA_X_509 C_Decrypt")


def check_always_authenticate(session, pin):
    pub, priv = session.generateKeyPair(
        [(P.CKA_TOKEN, False), (P.CKA_EC_PARAMS, bytes.fromhex("06082a8648ce3d030107")), (P.CKA_VERIFY, True)],
        [(P.CKA_TOKEN, False), (P.CKA_SIGN, True), (P.CKA_ALWAYS_AUTHENTICATE, True)],
        mecha=P.MechanismECGENERATEKEYPAIR)
    digest = os.urandom(32)
    ecdsa = P.Mechanism(P.CKM_ECDSA, None)
    expect_error("C_Sign without C_Login(CKU_CONTEXT_SPECIFIC)", "CKR_USER_NOT_LOGGED_IN",
                 lambda: session.sign(priv, digest, ecdsa))
    expect_error("C_Login(CKU_CONTEXT_SPECIFIC) with no operation", "CKR_OPERATION_NOT_INITIALIZED",
                 lambda: session.login(pin, user_type=P.CKU_CONTEXT_SPECIFIC))
    rv = session.lib.C_SignInit(session.session, ecdsa.to_native(), priv)
    check(rv == P.CKR_OK, "C_SignInit")
    session.login(pin, user_type=P.CKU_CONTEXT_SPECIFIC)
    sig = P.ckbytelist()
    for _ in range(2):  # length, then the signature
        rv = session.lib.C_Sign(session.session, P.ckbytelist(digest), sig)
        check(rv == P.CKR_OK, "C_Sign after the context-specific login")
    point = bytes(session.getAttributeValue(pub, [P.CKA_EC_POINT], allAsBinary=True)[0])[2:]  # DER OCTET STRING
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    r, s = int.from_bytes(bytes(sig)[:32], "big"), int.from_bytes(bytes(sig)[32:], "big")
    key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    print("ok  the signature verifies with cryptography")
    allowed = session.getAttributeValue(priv, [P.CKA_ALLOWED_MECHANISMS], allAsBinary=True)[0]
    check(allowed is not None and len(allowed) == 0, f"CKA_ALLOWED_MECHANISMS of a key without one: {allowed!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--module", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--pin", required=True)
    args = ap.parse_args()
    lib, slot, session = open_session(args)
    check_mechanism_list(lib, slot)
    check_aes_modes(session)
    check_rsa_x509(session)
    check_always_authenticate(session, args.pin)
    session.logout()
    session.closeSession()
    return 0


if __name__ == "__main__":
    sys.exit(main())
