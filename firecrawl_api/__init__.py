"""A Django-free client of Firecrawl's job endpoints: the client, its typed answers, its errors.

The only package in the project that talks to Firecrawl (and imports requests); it imports
nothing from Django or from the project's apps. `errors` holds what can go wrong, `wire` the
typed answers with their range checks, `transport` the bounded reads, `client` the calls,
`jsonscan` the status-page parser, `text` and `ids` the text and ids everything else shares.

This package re-exports the errors and the wire types only: importing it (as the models do)
does not load the HTTP client or requests. The client is `firecrawl_api.client.FirecrawlClient`.
"""

from firecrawl_api.errors import (
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
from firecrawl_api.wire import (
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
    "ActiveCrawl",
    "ActivityPage",
    "AuthError",
    "BadRequest",
    "Conflict",
    "CreditUsage",
    "DeadlineExceeded",
    "ErrorsListing",
    "FailedUrl",
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
