"""Passwords: the rules a new one must meet, and argon2id hashing."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "WeakPassword",
    "check_password_rules",
    "hash_password",
    "hash_password_off_loop",
    "use_hasher",
    "verify_password",
    "verify_password_off_loop",
]

MIN_LENGTH = 10
MAX_LENGTH = 128
_hasher = PasswordHasher()  # argon2id with the library's current recommended costs
# A well-formed hash of a random password: verifying against it costs as much as a real check, so an unknown
# e-mail address takes as long to refuse as a wrong password (no account enumeration by timing).
_DECOY_HASH = _hasher.hash("decoy-password-that-nobody-has")


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 costs from now on (the test suite uses cheap ones: ~0.2 s a hash adds up over
    thousands of sign-ups). Hashes carry their own costs, so existing ones keep verifying."""
    global _hasher, _DECOY_HASH
    _hasher = hasher
    _DECOY_HASH = hasher.hash("decoy-password-that-nobody-has")


class WeakPassword(ValueError):
    """The password breaks a rule; the message says which."""


def check_password_rules(password: str, *, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"must be at most {MAX_LENGTH} characters long")
    if len(set(password)) < 4:
        raise WeakPassword("is too repetitive")
    if email and password.lower() == email.lower():
        raise WeakPassword("must not be your e-mail address")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; an empty hash (no password set) never matches."""
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in a worker thread: argon2 takes about 0.1 s of CPU (it releases the GIL), which would
    otherwise stall every other request of the process."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
