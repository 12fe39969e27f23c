"""Is a delivery really from Salla? Checked on the raw body, before anything parses it.

Two strategies, chosen in Salla's Partners portal and mirrored by ``SALLA_WEBHOOK_STRATEGY``:

- ``signature``: ``X-Salla-Signature`` is the lowercase hex HMAC-SHA256 of the raw body with the webhook secret;
- ``token``: ``Authorization`` is the secret itself (Salla sends it bare; ``Bearer <secret>`` is accepted too).

Both comparisons are constant-time. A delivery made for the other strategy is refused, never "upgraded".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["SIGNATURE_HEADER", "STRATEGY_HEADER", "TOKEN_HEADER", "InvalidSignature", "sign", "verify_delivery"]

SIGNATURE_HEADER = "x-salla-signature"
STRATEGY_HEADER = "x-salla-security-strategy"
TOKEN_HEADER = "authorization"  # noqa: S105 (a header name)


class InvalidSignature(Exception):
    """The delivery cannot be shown to come from Salla; the message says why (and never echoes a secret)."""


def sign(secret: str, body: bytes) -> str:
    """What Salla puts in ``X-Salla-Signature`` for ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_delivery(*, strategy: str, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    """Raise `InvalidSignature` unless ``headers`` prove ``body`` came from Salla under ``strategy``.

    ``headers`` must be case-insensitive (Litestar's are) or use lowercase names."""
    if not secret:
        raise ValueError("the Salla webhook secret is empty: refuse deliveries before verifying them")
    announced = headers.get(STRATEGY_HEADER, "").strip().lower()
    if announced and announced != strategy:
        raise InvalidSignature(
            f"this endpoint verifies Salla's {strategy!r} strategy, the delivery says {announced[:40]!r}"
        )
    if strategy == "signature":
        _check_signature(secret, headers, body)
    elif strategy == "token":
        _check_token(secret, headers)
    else:
        raise ValueError(f"unknown Salla webhook strategy {strategy!r}")


def _check_signature(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    given = headers.get(SIGNATURE_HEADER, "").strip()
    if not given:
        if headers.get(TOKEN_HEADER):
            raise InvalidSignature("expected an X-Salla-Signature header (signature strategy), got a token")
        raise InvalidSignature("the X-Salla-Signature header is missing")
    # Lowercasing only spares a client that uppercases hex; it cannot make a wrong signature right.
    if not hmac.compare_digest(sign(secret, body).encode(), given.lower().encode("utf-8", "replace")):
        raise InvalidSignature("the X-Salla-Signature header does not match the body")


def _check_token(secret: str, headers: Mapping[str, str]) -> None:
    given = headers.get(TOKEN_HEADER, "").strip()
    if not given:
        if headers.get(SIGNATURE_HEADER):
            raise InvalidSignature("expected an Authorization token (token strategy), got a signature")
        raise InvalidSignature("the Authorization header is missing")
    if given[:7].lower() == "bearer ":
        given = given[7:].strip()
    if not hmac.compare_digest(secret.encode(), given.encode("utf-8", "replace")):
        raise InvalidSignature("the Authorization token is not the webhook secret")
