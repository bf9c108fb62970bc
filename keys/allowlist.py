"""Lists of Firecrawl servers an operator names: where a key may be sent (FIRECRAWL_API_URLS), and
which servers get an idempotency key with a start (FIRECRAWL_IDEMPOTENCY_URLS). One match rule
for both; and whether a key's API URL is on a given server."""

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.conf import settings


def url_listed(url: str, listed: Iterable[str]) -> bool:
    """Whether `url` is one of the `listed` servers (a trailing slash aside); `*` in the list
    stands for any http(s) URL with a host."""
    listed = list(listed)
    if "*" in listed:
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. "https://host[": not a URL at all
            return False
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    return url.rstrip("/") in {item.rstrip("/") for item in listed}


def allowed_api_url(url: str) -> bool:
    """Whether FIRECRAWL_API_URLS lets requests (carrying a key) go to `url`."""
    return url_listed(url, settings.FIRECRAWL_API_URLS)


def same_server(url: str, origin: str) -> bool:
    """Whether `url` (a key's API URL) is on the server `origin` names (scheme, host, port): a
    pasted Firecrawl URL says which server its job is on."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()
