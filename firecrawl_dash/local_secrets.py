"""Secrets generated once for a development instance and kept in an ignored local file."""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

_GENERATORS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
}


def local_secret(path: Path, name: str) -> str:
    values = json.loads(path.read_text()) if path.exists() else {}
    if name not in values:
        values[name] = _GENERATORS[name]()
        # Written with owner-only permissions: it decrypts every stored API key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(values, file, indent=2)
    return str(values[name])
