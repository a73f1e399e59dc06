"""HMAC-SHA256 signatures of the generic connector: "sha256=" + hex of "<timestamp>.<body>"."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the X-Linli-Signature value for a body sent at a unix timestamp."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers for a signed JSON request."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        "X-Linli-Timestamp": timestamp,
        "X-Linli-Signature": sign(secret, timestamp, body),
    }


def verify(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, skew: int
) -> str | None:
    """Return None when the request is authentic and fresh, else the reason it is not."""
    if not timestamp or not signature:
        return "missing X-Linli-Timestamp or X-Linli-Signature header"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "X-Linli-Timestamp is not unix seconds"
    if abs(time.time() - int(timestamp)) > skew:
        return f"timestamp is more than {skew} s away from the server's clock"
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return "signature does not match"
    return None


def verify_request(secret: str, headers: Mapping[str, str], body: bytes, skew: int) -> str | None:
    """verify() with the X-Linli-Timestamp and X-Linli-Signature headers of a request."""
    return verify(
        secret, headers.get("X-Linli-Timestamp"), headers.get("X-Linli-Signature"), body, skew
    )
