"""Channel credentials sealed at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret key."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken

from switchboard.application.ports.security import SecretsUnreadable

CONTEXT = b"switchboard/channel-secrets/v1"


class FernetSecretBox:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(CONTEXT + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, secrets: Mapping[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode("ascii")

    def open(self, sealed: str) -> dict[str, str]:
        try:
            value = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError) as error:
            raise SecretsUnreadable("the channel's secrets cannot be opened with this secret key") from error
        return {str(k): str(v) for k, v in value.items()}

    def __repr__(self) -> str:
        return "FernetSecretBox(<key hidden>)"
