"""WXBizMsgCrypt: the published vectors, round trips, wechatpy agreement and refusals."""

from __future__ import annotations

import base64
import os
import random
import string

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.connectors.tencent.callbacks import split_text
from bot.connectors.tencent.crypto import (
    CryptoError,
    SignatureError,
    WXBizMsgCrypt,
    check_signature,
    parse_xml,
    pkcs7_pad,
    signature,
)

WECOM_DOC = ("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
PY_SAMPLE = ("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
             "ww1436e0e65a779aee")  # fmt: skip
VECTORS = [
    pytest.param(
        WECOM_DOC, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780",
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
        "1616140317555161061", id="wecom-doc",
    ),
    pytest.param(
        PY_SAMPLE, "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "1476416373", "47744683",
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
        "1288432023552776189", id="python-sample",
    ),
]  # fmt: skip


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    for i in range(1, 10):
        refs = f"&lol{i - 1};" * 10
        entities.append(f'<!ENTITY lol{i} "{refs}">')
    doctype = "<!DOCTYPE xml [" + "".join(entities) + "]>"
    return f'<?xml version="1.0"?>{doctype}<xml><Encrypt>&lol9;</Encrypt></xml>'.encode()


BILLION_LAUGHS = _billion_laughs()
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<xml><Content>&xxe;</Content></xml>"
)


@pytest.mark.parametrize(("creds", "sig", "timestamp", "nonce", "echostr", "plain"), VECTORS)
def test_published_url_check_vectors(creds, sig, timestamp, nonce, echostr, plain):
    crypt = WXBizMsgCrypt(*creds)
    assert signature(creds[0], timestamp, nonce, echostr) == sig
    assert crypt.verify_url(sig, timestamp, nonce, echostr) == plain
    # a query decoder that turned "+" into spaces still verifies
    assert crypt.verify_url(sig, timestamp, nonce, echostr.replace("+", " ")) == plain


@pytest.mark.parametrize(("creds", "sig", "timestamp", "nonce", "echostr", "plain"), VECTORS)
def test_vectors_refused_when_tampered(creds, sig, timestamp, nonce, echostr, plain):
    crypt = WXBizMsgCrypt(*creds)
    with pytest.raises(SignatureError):
        crypt.verify_url(sig[:-1] + ("0" if sig[-1] != "0" else "1"), timestamp, nonce, echostr)
    with pytest.raises(SignatureError):
        crypt.verify_url(sig, str(int(timestamp) + 1), nonce, echostr)
    with pytest.raises(CryptoError, match="receive id"):
        WXBizMsgCrypt(creds[0], creds[1], "ww-someone-else").verify_url(
            sig, timestamp, nonce, echostr
        )


def test_round_trip_random_messages():
    rng = random.Random(4)
    for _ in range(200):
        key = base64.b64encode(os.urandom(32)).decode()[:43]
        receive_id = "".join(rng.choices(string.ascii_letters, k=rng.randint(1, 20)))
        crypt = WXBizMsgCrypt("tok", key, receive_id)
        message = os.urandom(rng.randint(0, 300))
        assert crypt.decrypt(crypt.encrypt(message)) == message
        envelope = crypt.encrypt_message(message, "1700000000", "n1")
        fields = parse_xml(envelope)
        assert (
            crypt.decrypt_message(envelope, fields["MsgSignature"], "1700000000", "n1") == message
        )


def test_padding_fills_32_byte_blocks():
    for n in range(70):
        padded = pkcs7_pad(b"x" * n)
        assert len(padded) % 32 == 0 and 1 <= padded[-1] <= 32
        assert padded[n:] == bytes([padded[-1]]) * padded[-1]


def test_agrees_with_wechatpy():
    enterprise = pytest.importorskip("wechatpy.enterprise.crypto")
    official = pytest.importorskip("wechatpy.crypto")
    token, key, corp = PY_SAMPLE
    ours = WXBizMsgCrypt(token, key, corp)
    theirs = enterprise.WeChatCrypto(token, key, corp)
    xml = "<xml><Content><![CDATA[东关中巷路灯坏了]]></Content></xml>"
    envelope = theirs.encrypt_message(xml, "nonce7", "1700000000")
    sig = parse_xml(envelope)["MsgSignature"]
    assert ours.decrypt_message(envelope.encode(), sig, "1700000000", "nonce7").decode() == xml
    mine = ours.encrypt_message(xml.encode(), "1700000001", "nonce8")
    sig = parse_xml(mine)["MsgSignature"]
    assert theirs.decrypt_message(mine.decode(), sig, "1700000001", "nonce8") == xml
    oa_token, oa_key, app_id = WECOM_DOC
    oa = official.WeChatCrypto(oa_token, oa_key, app_id)
    envelope = oa.encrypt_message(xml, "nonce9", "1700000002")
    sig = parse_xml(envelope)["MsgSignature"]
    plain = WXBizMsgCrypt(oa_token, oa_key, app_id).decrypt_message(
        envelope.encode(), sig, "1700000002", "nonce9"
    )
    assert plain.decode() == xml


def _raw_encrypt(key43: str, plain: bytes) -> str:
    """Encrypt already padded bytes, to build ciphertexts with bad padding."""
    key = base64.b64decode(key43 + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def test_bad_padding_and_truncation_are_refused():
    token, key, corp = PY_SAMPLE
    crypt = WXBizMsgCrypt(token, key, corp)
    body = os.urandom(16) + (5).to_bytes(4, "big") + b"hello" + corp.encode()
    body += b"\x00" * (-len(body) % 32)
    for last in (b"\x00", b"\x21", b"\xff"):  # outside 1..32
        with pytest.raises(CryptoError, match="padding"):
            crypt.decrypt(_raw_encrypt(key, body[:-1] + last))
    inconsistent = body[:-4] + b"\x01\x02\x03\x04"  # claims 4 bytes of padding, not all 0x04
    with pytest.raises(CryptoError, match="padding"):
        crypt.decrypt(_raw_encrypt(key, inconsistent))
    good = crypt.encrypt(b"hello world")
    raw = base64.b64decode(good)
    for bad in (base64.b64encode(raw[:-5]).decode(), base64.b64encode(raw[:16]).decode(), "", "@@"):
        with pytest.raises(CryptoError):
            crypt.decrypt(bad)
    long_claim = os.urandom(16) + (10_000).to_bytes(4, "big") + b"hi" + corp.encode()
    with pytest.raises(CryptoError, match="length"):
        crypt.decrypt(_raw_encrypt(key, pkcs7_pad(long_claim)))


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY, b"<xml><a>", b"\xff\xfe"])
def test_unsafe_or_broken_xml_is_refused(document):
    with pytest.raises(CryptoError):
        parse_xml(document)


def test_plain_signature_and_bad_keys():
    assert check_signature("QDG6eK", signature("QDG6eK", "1", "2"), "1", "2")
    assert not check_signature("QDG6eK", None, "1", "2")
    assert not check_signature("QDG6eK", "0" * 40, "1", "2")
    for key in ("short", "!" * 43):
        with pytest.raises(ValueError):
            WXBizMsgCrypt("t", key, "id")


def test_long_replies_are_split_on_utf8_boundaries():
    assert split_text("你好") == ["你好"]
    pieces = split_text("路" * 1500)
    assert "".join(pieces) == "路" * 1500
    assert all(len(p.encode()) <= 2000 for p in pieces)
