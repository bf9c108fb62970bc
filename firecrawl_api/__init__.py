"""Firecrawl's job endpoints for the rest of the app: the client, its typed answers, its errors.

The only package in the project that talks to Firecrawl (and imports requests); it knows no
Django. `errors` holds what can go wrong, `wire` the typed answers with their range checks,
`transport` the bounded reads, `client` the calls.
"""

from jobs.firecrawl.client import IDEMPOTENCY_HEADER, FirecrawlClient
from jobs.firecrawl.errors import (
    AuthError,
    BadRequest,
    Conflict,
    DeadlineExceeded,
    FirecrawlError,
    Forbidden,
    InvalidResponse,
    NotFound,
    NotSupported,
    PaymentRequired,
    RateLimited,
    ResponseTooLarge,
    Unreachable,
    UpstreamError,
)
from jobs.firecrawl.wire import (
    ActiveCrawl,
    ActivityPage,
    CreditUsage,
    ErrorsListing,
    FailedUrl,
    RecentJob,
    ScrapedDocument,
    StartedJob,
    StatusPage,
)

__all__ = [
    "IDEMPOTENCY_HEADER",
    "ActiveCrawl",
    "ActivityPage",
    "AuthError",
    "BadRequest",
    "Conflict",
    "CreditUsage",
    "DeadlineExceeded",
    "ErrorsListing",
    "FailedUrl",
    "FirecrawlClient",
    "FirecrawlError",
    "Forbidden",
    "InvalidResponse",
    "NotFound",
    "NotSupported",
    "PaymentRequired",
    "RateLimited",
    "RecentJob",
    "ResponseTooLarge",
    "ScrapedDocument",
    "StartedJob",
    "StatusPage",
    "Unreachable",
    "UpstreamError",
]
