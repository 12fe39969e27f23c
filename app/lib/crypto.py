"""Secrets at rest (tenant database passwords, Salla tokens): Fernet with key rotation.

``ENCRYPTION_KEY`` holds one or more keys, newest first. The newest encrypts; every key decrypts, so an old
key can be retired once `rotate` has re-encrypted what it protected.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "UndecryptableSecret"]


class UndecryptableSecret(Exception):
    """None of the configured keys opens this value (a key was removed too early?)."""


class SecretBox:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret("no configured ENCRYPTION_KEY decrypts this secret") from None

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the newest key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret("no configured ENCRYPTION_KEY decrypts this secret") from None
