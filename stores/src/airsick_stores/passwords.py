"""Each person's password for the app: salted scrypt hashes in one file only this user reads.

The app opens a person's own diary, predictions and triggers to whoever gives that person's
name and password, and to nobody else. The file (``HOME/app/passwords.json``, mode 0600)
holds no password, only scrypt hashes with their salts; it is replaced whole (written
beside and renamed), so a crash never leaves half of it. ``forget`` removes the person's
entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

# scrypt's parameters (RFC 7914): about 50 ms and 16 MiB a check on this machine.
N, R, P = 2**14, 8, 1
MIN_LENGTH = 8


class PasswordError(ValueError):
    """A password that cannot be set; the message says what to do."""


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, maxmem=64 * 2**20)


@dataclass(frozen=True)
class Passwords:
    path: Path  # HOME/app/passwords.json

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, entries: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        beside = self.path.with_name(f".{self.path.name}.writing")
        descriptor = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(entries, file, indent=1, sort_keys=True)
        beside.replace(self.path)

    def set(self, person: str, password: str) -> None:
        """Set (or replace) ``person``'s password."""
        if len(password) < MIN_LENGTH:
            raise PasswordError(f"The password is too short; use at least {MIN_LENGTH} characters.")
        salt = secrets.token_bytes(16)
        entries = self._read()
        entries[person] = {"salt": salt.hex(), "scrypt": _hash(password, salt).hex()}
        self._write(entries)

    def check(self, person: str, password: str) -> bool:
        """Whether ``password`` is ``person``'s (in constant time; False for nobody's)."""
        entry = self._read().get(person)
        if entry is None:
            _hash(password, b"\0" * 16)  # the same work whether the name exists or not
            return False
        expected = bytes.fromhex(entry["scrypt"])
        return hmac.compare_digest(_hash(password, bytes.fromhex(entry["salt"])), expected)

    def people(self) -> list[str]:
        """Who has a password."""
        return sorted(self._read())

    def forget(self, person: str) -> bool:
        """Remove ``person``'s entry; return whether there was one."""
        entries = self._read()
        if entries.pop(person, None) is None:
            return False
        self._write(entries)
        return True
