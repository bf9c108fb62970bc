"""Job ids and API keys as people paste and see them: no HTTP, no database."""

import re
from dataclasses import dataclass

# A Firecrawl job id (and scrape id, idempotency key): a UUID in its hyphenated form, any case.
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_EXACT = re.compile(UUID_PATTERN)
# Lookarounds keep a UUID-shaped slice of a longer hex run (a hash, a key) from passing as an id.
_UUID_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z-]){UUID_PATTERN}(?![0-9A-Za-z-])")
# What a pasted Firecrawl URL says about the job's kind: /v1/crawl/<id>, /v2/batch/scrape/<id>.
_KIND_IN_URL = re.compile(rf"/(crawl|batch/scrape)/{UUID_PATTERN}", re.IGNORECASE)
# ...and about its server: the origin before /v1/ or /v2/ (https://api.firecrawl.dev).
_SERVER_IN_URL = re.compile(
    rf"(?P<origin>https?://[^/\s?#]+)(?:/[^\s?#]*?)?/v[12]/(?:crawl|batch/scrape)/{UUID_PATTERN}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class JobReference:
    """A job id found in pasted text, its kind when the text says it ("batch", "crawl"), and
    the server a pasted API URL names (its origin, lowercased)."""

    id: str
    kind: str | None = None
    server: str | None = None


def parse_job_reference(text: object) -> JobReference | None:
    """The first UUID in `text` (a bare id or any pasted URL), lowercased, or None.

    A URL containing `/crawl/<id>` or `/batch/scrape/<id>` also decides the kind, and one of
    Firecrawl's API URLs (`…/v2/crawl/<id>`) names the server.
    """
    if not isinstance(text, str):
        return None
    match = _UUID_IN_TEXT.search(text)
    if match is None:
        return None
    kind_match = _KIND_IN_URL.search(text)
    kind = None
    if kind_match is not None and kind_match.group(0).lower().endswith(match.group(0).lower()):
        kind = "crawl" if kind_match.group(1).lower() == "crawl" else "batch"
    server_match = _SERVER_IN_URL.search(text)
    server = None
    if server_match is not None and server_match.group(0).lower().endswith(match.group(0).lower()):
        server = server_match.group("origin").lower()
    return JobReference(match.group(0).lower(), kind, server)


def is_uuid(text: object) -> bool:
    """Whether `text` is exactly a UUID (nothing before or after it)."""
    return isinstance(text, str) and _UUID_EXACT.fullmatch(text) is not None


# The shortest key body whose last four characters are shown: never more than half of it.
MASK_MIN_BODY = 8


def mask_key(key: object) -> str:
    """Show a key as `fc-…1a2b`, wherever it is shown. A short key (self-hosted servers take
    any, often a short made-up one saved without checking) keeps its prefix and hides the rest:
    four characters would be too much of it."""
    if not isinstance(key, str):
        return "…"
    prefix = "fc-" if key.startswith("fc-") else ""
    body = key[len(prefix) :]
    if len(body) < MASK_MIN_BODY:
        return f"{prefix}…"
    return f"{prefix}…{body[-4:]}"
