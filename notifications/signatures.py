"""The signature of every outgoing webhook call: `X-Dashboard-Signature: sha256=<hex>`, the
HMAC-SHA256 of the exact body with the user's webhook secret. A receiver checks it with
`hmac.compare_digest` over the raw body, before parsing it."""

import hashlib
import hmac

HEADER = "X-Dashboard-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)
