"""Which Firecrawl servers a key may be sent to: the FIRECRAWL_API_URLS allow-list."""

from urllib.parse import urlsplit

from django.conf import settings


def allowed_api_url(url: str) -> bool:
    """Whether FIRECRAWL_API_URLS lets requests (carrying a key) go to `url`."""
    allowed = settings.FIRECRAWL_API_URLS
    if "*" in allowed:
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. "https://host[": not a URL at all
            return False
        return parts.scheme in {"http", "https"} and bool(parts.hostname)
    return url.rstrip("/") in {item.rstrip("/") for item in allowed}
