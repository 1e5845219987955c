"""Identity values between the prompts, sealed so they never reach a file in clear.

The dialogue state is persisted (SQL, later Redis), and a database's journal and free pages
keep what was written long after it is deleted. The OMS and document numbers a patient types
are therefore stored in the dialogue only as AES-GCM ciphertext under a key that lives in the
process's memory: a restart makes them unreadable, and the patient is asked again. Several
instances share a key only when the operator passes one through the environment.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
KEY_BYTES = 32


def parse_key(encoded: str) -> bytes:
    """A configured key: 32 bytes in URL-safe base64 (e.g. `openssl rand -base64 32`)."""
    try:
        key = base64.urlsafe_b64decode(encoded.strip().replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must be {KEY_BYTES} bytes in base64, not {len(key)}")
    return key


class Sealer:
    """Seals a short value to one context (e.g. account, dialogue and field) so a sealed
    value copied into another dialogue does not open there."""

    def __init__(self, key: bytes | None = None) -> None:
        # The key now (AESGCM.generate_key is os.urandom too), the cipher at its first use:
        # cryptography takes about 6 MiB, loaded only when a patient first types a number.
        self._key = key if key is not None else os.urandom(KEY_BYTES)
        if len(self._key) not in (16, 24, 32):
            # What AESGCM would refuse, refused at start rather than at a patient's first number.
            raise ValueError("the sealing key must be 16, 24 or 32 bytes long")
        self._cipher: AESGCM | None = None

    @property
    def _aead(self) -> AESGCM:
        if self._cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._cipher = AESGCM(self._key)
        return self._cipher

    def seal(self, value: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: object, *, context: str) -> str | None:
        """The value, or None if it was sealed by another process (a restart), for another
        context, or is not a sealed value at all."""
        if not isinstance(token, str):
            return None
        from cryptography.exceptions import InvalidTag

        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError, binascii.Error):
            return None
        return plain.decode()
