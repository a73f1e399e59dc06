"""Tencent's WXBizMsgCrypt callback scheme (WeCom and WeChat safe mode), on `cryptography`.

Signature: SHA-1 hex of the sorted, concatenated (token, timestamp, nonce[, encrypt]).
Ciphertext: base64 of AES-256-CBC with key = base64(EncodingAESKey + "="), IV = key[:16],
PKCS#7 padding to 32-byte blocks, over 16 random bytes ‖ 4-byte big-endian length ‖
message ‖ receive id (the WeCom corp id or the WeChat app id).
XML is read with defusedxml: DTDs, entities and external references are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from xml.etree.ElementTree import ParseError

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

BLOCK = 32


class CryptoError(ValueError):
    """A callback that fails verification, decryption or parsing; the message says why."""


class SignatureError(CryptoError):
    """The request is not signed with our token (answer 401, not 400)."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str = "") -> str:
    """SHA-1 hex digest of the sorted parts (encrypt is left out when empty: plain mode)."""
    parts = [token, timestamp, nonce] + ([encrypt] if encrypt else [])
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(
    token: str, given: str | None, timestamp: str | None, nonce: str | None, encrypt: str = ""
) -> bool:
    """Constant-time comparison of a request's signature with the expected one."""
    if not given or timestamp is None or nonce is None:
        return False
    expected = signature(token, timestamp, nonce, encrypt)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def parse_xml(data: bytes | str) -> dict[str, str]:
    """The child elements of a flat <xml> document as a dict; CryptoError when unsafe or bad."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CryptoError(f"XML refused: {type(exc).__name__}") from None
    except (ParseError, ValueError) as exc:
        raise CryptoError(f"body is not valid XML: {exc}") from None
    return {child.tag: (child.text or "").strip() for child in root}


def pkcs7_pad(data: bytes) -> bytes:
    """Pad to a multiple of 32 bytes with 1..32 bytes each holding the pad length."""
    amount = BLOCK - len(data) % BLOCK
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes) -> bytes:
    """Remove PKCS#7 padding; CryptoError when the padding is outside 1..32 or inconsistent."""
    if not data:
        raise CryptoError("empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= BLOCK or amount > len(data):
        raise CryptoError("bad padding")
    if not hmac.compare_digest(data[-amount:], bytes([amount]) * amount):
        raise CryptoError("bad padding")
    return data[:-amount]


class WXBizMsgCrypt:
    """Encrypts, decrypts and signs callbacks for one token, EncodingAESKey and receive id."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("EncodingAESKey must be 43 characters")
        try:
            self.key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("EncodingAESKey is not base64") from None
        self.token = token
        self.receive_id = receive_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        """Base64 ciphertext of a message (random16 fixes the prefix, for tests)."""
        prefix = random16 if random16 is not None else os.urandom(16)
        plain = prefix + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> bytes:
        """The message inside a base64 ciphertext, after checking its padding and receive id."""
        try:
            raw = base64.b64decode(encrypted.replace(" ", "+"), validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of the AES block")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(raw) + decryptor.finalize())
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("message length exceeds the plaintext")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise CryptoError("receive id does not match")
        return message

    def verify(
        self, msg_signature: str | None, timestamp: str | None, nonce: str | None, encrypted: str
    ) -> None:
        """Raise CryptoError unless msg_signature signs the ciphertext."""
        if not check_signature(self.token, msg_signature, timestamp, nonce, encrypted):
            raise SignatureError("msg_signature does not match")

    def verify_url(
        self, msg_signature: str | None, timestamp: str | None, nonce: str | None, echostr: str
    ) -> str:
        """Check a URL-verification request and return the decrypted echo string."""
        echostr = echostr.replace(" ", "+")
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr).decode()

    def decrypt_message(
        self, body: bytes, msg_signature: str | None, timestamp: str | None, nonce: str | None
    ) -> bytes:
        """Check and decrypt a POSTed callback; return the inner XML."""
        encrypted = parse_xml(body).get("Encrypt")
        if not encrypted:
            raise CryptoError("no Encrypt element")
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_message(self, message: bytes, timestamp: str, nonce: str) -> bytes:
        """An encrypted, signed <xml> envelope (as the platform sends it, or a passive reply)."""
        encrypted = self.encrypt(message)
        sig = signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ).encode()
