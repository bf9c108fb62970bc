"""What can go wrong in a Firecrawl call, one class per thing a user or the sync can act on.

Every `message` is a sentence that can be shown alone. What a failure means is said here, once,
by each class's policy attributes (`needs_user`, `job_missing`, `retry_after`, `may_have_acted`
…); the code that reacts to failures (a job's sync, a start) reads those, never a list of
classes.
"""

from __future__ import annotations

import math


class FirecrawlError(Exception):
    """A Firecrawl call failed; `message` is a sentence a user can act on."""

    default_message = "The Firecrawl request failed"

    # -- The policy: what this failure means to whoever made the call -------------------------
    # Only the user can fix it (the key, the team's credits, the API URL): retrying cannot help,
    # so a job stops polling until they act.
    needs_user = False
    # Firecrawl says the job is not there: unknown, expired, or another team's.
    job_missing = False
    # The key itself was refused: the key's own page says so too.
    rejects_key = False
    # Counted among a job's consecutive failures (its backoff grows with them); our own pacing
    # of requests is not a failure of anything.
    counts_as_failure = True
    # The request may have reached Firecrawl and been acted on although no usable answer came
    # back: a start may have gone out.
    may_have_acted = False
    # Seconds after which asking again can succeed, when the failure says so (a 429); None: the
    # caller's own backoff.
    retry_after: float | None = None

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        # Upstream's own error text (display-safe, key masked), when it sent one.
        self.api_message = api_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"

    def retrying_message(self, seconds: int) -> str:
        """What a job shows while it waits `seconds` before asking again."""
        return f"{self.message.rstrip('.')}; retrying in {seconds} s"


class AuthError(FirecrawlError):
    default_message = "Firecrawl rejected the API key (401)"
    needs_user = True
    rejects_key = True


class PaymentRequired(FirecrawlError):
    default_message = "Firecrawl refused the request: the team is out of credits (402)"
    needs_user = True


class Forbidden(FirecrawlError):
    default_message = "This API key's team may not access that job (403)"
    needs_user = True


class NotFound(FirecrawlError):
    """Firecrawl says the job does not exist: unknown, expired, or another team's."""

    default_message = "Job not found upstream"
    job_missing = True


class NotSupported(FirecrawlError):
    """The server has no such endpoint: a 404 without Firecrawl's JSON error (Express's
    "Cannot GET …" page), as older and self-hosted servers answer for routes they lack."""

    default_message = "This Firecrawl server does not offer that endpoint (404)"
    # The API URL or version names something else than the Firecrawl routes asked for.
    needs_user = True


class BadRequest(FirecrawlError):
    """400, or a job id that is not a UUID (refused before any request).

    `details` lists what Firecrawl found wrong with the request body, one readable line per
    problem ("urls[2]: Invalid URL"), so a form can show them next to its input.
    """

    needs_user = True

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.details = details or []
        super().__init__(message, status_code=status_code, api_message=api_message)


class Conflict(FirecrawlError):
    """409: cancelling a job that already completed, or an idempotency key used before."""

    # A start refused this way was sent before with the same key, and that one may have started
    # the job.
    may_have_acted = True


class RateLimited(FirecrawlError):
    retry_after: float

    def __init__(
        self,
        retry_after: float,
        *,
        status_code: int | None = 429,
        api_message: str | None = None,
    ) -> None:
        self.retry_after = float(retry_after)
        seconds = max(1, math.ceil(self.retry_after))
        super().__init__(
            f"Rate limited by Firecrawl, retry in {seconds} s",
            status_code=status_code,
            api_message=api_message,
        )

    def retrying_message(self, seconds: int) -> str:
        return f"Rate limited by Firecrawl, retrying in {seconds} s"


class UpstreamError(FirecrawlError):
    # A 5xx can come after the server did the work (a start included).
    may_have_acted = True

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        exception_id: str | None = None,
    ) -> None:
        self.exception_id = exception_id
        if message is None:
            message = f"Firecrawl had an internal error ({status_code or '5xx'})"
            if exception_id:
                message += f", exception ID {exception_id}"
        super().__init__(message, status_code=status_code, api_message=api_message)


class InvalidResponse(FirecrawlError):
    """Firecrawl answered, but not with what the endpoint promises (a wrong shape, or a value
    out of any possible range).

    `job_status` carries the upstream status when a 200 said `success: false` (a failed job).
    """

    default_message = "Firecrawl sent a response this dashboard cannot read"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        job_status: str | None = None,
        transient: bool = False,
    ) -> None:
        self.job_status = job_status
        self.transient = transient
        # Firecrawl's own refusal (a 200 with success:false says what it did not do) is an
        # answer; anything else unreadable may hide one that said it did the work.
        self.may_have_acted = not (api_message or job_status)
        super().__init__(message, status_code=status_code, api_message=api_message)


class ResponseTooLarge(FirecrawlError):
    """One response body went past the client's `max_response_bytes` (decompressed); never
    retried, since the same request would bring the same body."""

    needs_user = True
    may_have_acted = True


class Unreachable(FirecrawlError):
    """No usable answer came: refused, dropped, timed out, or an unusable API URL."""

    default_message = "Could not reach Firecrawl"

    def __init__(
        self, message: str | None = None, *, retryable: bool = True, sent: bool = True
    ) -> None:
        self.retryable = retryable
        # Nothing went out when the API URL itself is unusable (not retryable), or when no
        # connection was ever made (refused, no such host, no answer to connect): `sent` False.
        self.may_have_acted = retryable and sent
        super().__init__(message)


class DeadlineExceeded(Unreachable):
    """The call, retries and waits included, outlived the client's `deadline`."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, retryable=False)
        # The request was out (and may have been acted on) when time ran out.
        self.may_have_acted = True
