"""Firecrawl's webhooks at the edge: the signature, the event a delivery carries, and the
`webhook` a start request registers. Django-free, like the rest of the package.

What Firecrawl sends (FIRECRAWL.md, "Webhooks"): a POST of `{success, type, id, webhookId, data,
error?, metadata}`, `type` `batch_scrape.*` or `crawl.*` (`started`, `page`, `completed`, and
`failed` in the filter's vocabulary), signed with `X-Firecrawl-Signature: sha256=<hex HMAC-SHA256
of the raw body>` when the team has a secret. Only the envelope is read here: the scraped
document in a page event's `data` is never used (the status endpoint stays the one source of
documents), so nothing of it is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "X-Firecrawl-Signature"
# The events a start request asks for: every one the filter knows (it takes short names only).
EVENTS = ("started", "page", "completed", "failed")
# Event type prefix -> the job kind (the same words as the client's `kind`).
KINDS = {"batch_scrape": "batch", "crawl": "crawl"}
# Metadata sent back is kept only this big (it is ours when the job was started here).
MAX_METADATA_ITEMS = 20


class MalformedEvent(ValueError):
    """The body is not a Firecrawl event: not JSON, not an object, or a field of the wrong type."""


class UnknownEventType(MalformedEvent):
    """A well-formed event of a type this dashboard does not handle (extract.*, monitor.*…)."""


def sign(secret: str, body: bytes) -> str:
    """The X-Firecrawl-Signature Firecrawl sends for `body` under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `secret`, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())


def webhook_request(url: str, metadata: dict[str, str]) -> dict[str, Any]:
    """The `webhook` of a start request: every event, to `url`, with `metadata` sent back."""
    return {"url": url, "metadata": dict(metadata), "events": list(EVENTS)}


@dataclass(frozen=True)
class WebhookEvent:
    """One delivery's envelope: which job, what happened, and the delivery's own id."""

    kind: str  # "batch" or "crawl", from the type
    event: str  # "started", "page", "completed" or "failed"
    job_id: str  # lowercase UUID
    webhook_id: str  # lowercase UUID, fresh per delivery
    success: bool
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return f"{'crawl' if self.kind == 'crawl' else 'batch_scrape'}.{self.event}"

    @property
    def failed_page(self) -> bool:
        """A page Firecrawl could not scrape: it will be in the job's /errors."""
        return self.event == "page" and not self.success

    @property
    def ends_job(self) -> bool:
        return self.event in ("completed", "failed")

    @classmethod
    def from_body(cls, body: bytes) -> WebhookEvent:
        """Read the envelope of a delivery, or raise MalformedEvent (UnknownEventType)."""
        fields = _envelope(body)
        type_ = fields.get("type")
        if not isinstance(type_, str):
            raise MalformedEvent("The event has no type")
        prefix, _, event = type_.partition(".")
        if prefix not in KINDS or event not in EVENTS:
            raise UnknownEventType(f"Unknown event type {type_[:60]!r}")
        success = fields.get("success")
        if not isinstance(success, bool):
            raise MalformedEvent("The event's success is not true or false")
        return cls(
            kind=KINDS[prefix],
            event=event,
            job_id=_uuid(fields.get("id"), "id"),
            webhook_id=_uuid(fields.get("webhookId"), "webhookId"),
            success=success,
            metadata=_metadata(fields.get("metadata")),
        )


def _uuid(value: Any, name: str) -> str:
    if isinstance(value, str) and len(value) <= 40:
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
    raise MalformedEvent(f"The event's {name} is not a UUID")


def _metadata(value: Any) -> dict[str, str]:
    """The metadata sent back (strings only, as Firecrawl's schema has it), bounded."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent("The event's metadata is not an object")
    return {
        str(k)[:100]: v[:200]
        for k, v in list(value.items())[:MAX_METADATA_ITEMS]
        if isinstance(v, str)
    }


def _envelope(body: bytes) -> dict[str, Any]:
    """The event object (json.loads is the fastest way through a page event's document)."""
    try:
        fields = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedEvent("The body is not valid JSON") from None
    if not isinstance(fields, dict):
        raise MalformedEvent("The body is not a JSON object")
    return fields
