"""Session tokens: HS256 JWTs signed with the secret key, short-lived."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt


class JwtSigner:
    def __init__(self, secret_key: str, *, lifetime: timedelta) -> None:
        self._key = secret_key
        self._lifetime = lifetime

    def issue(self, user_id: int, at: datetime) -> str:
        claims = {
            "sub": str(user_id),
            "iat": int(at.timestamp()),
            "exp": int((at + self._lifetime).timestamp()),
            "typ": "session",
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def read(self, token: str, at: datetime) -> int | None:
        try:
            claims = jwt.decode(
                token, self._key, algorithms=["HS256"], options={"verify_exp": False, "require": ["sub", "exp"]}
            )
        except jwt.PyJWTError:
            return None
        if claims.get("typ") != "session" or int(claims["exp"]) <= at.timestamp():
            return None
        try:
            return int(claims["sub"])
        except (TypeError, ValueError):
            return None
