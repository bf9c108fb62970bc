"""Every API error is JSON with a message, whatever raised it: the API's own refusals, django-
ninja's validation, Django's 404 and 405 for addresses the API does not have, a server error."""

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

# Where the API lives: the middleware below only rewrites errors under it.
API_PREFIX = "/api/"
# Headers of an error response that say how to recover, kept when it is rewritten as JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
BEARER_CHALLENGE = 'Bearer realm="api"'


class ErrorOut(Schema):
    message: str
    # More about the problem, one line each (Firecrawl's list of what is wrong with a start).
    details: list[str] | None = None
    # A start whose answer was lost: Firecrawl may have started the job.
    uncertain: bool | None = None


class ApiError(HttpError):
    """An answer other than success, with the message a person reads."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: list[str] | None = None,
        uncertain: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.details = details
        self.uncertain = uncertain
        self.headers = headers or {}


class RateLimited(ApiError):
    def __init__(self, retry_after: float, limit: int) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(
            429,
            f"This token's {limit} requests a minute are used up; try again in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )


def error_responses(*codes: int) -> dict[int, type[ErrorOut]]:
    """An operation's documented errors: every operation may answer 400 (a bad query or body),
    401 (no valid token) and 429 (the token's rate limit), and these besides."""
    return dict.fromkeys(sorted({400, 401, 429, *codes}), ErrorOut)


def error_response(
    status: int,
    message: str,
    *,
    details: list[str] | None = None,
    uncertain: bool | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    body: dict[str, Any] = {"message": message}
    if details is not None:
        body["details"] = details
    if uncertain is not None:
        body["uncertain"] = uncertain
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[str]]:
    lines = []
    for error in errors:
        # ("query", "per_page") or ("body", "payload", "urls", 3): the part the client named.
        source, *path = error.get("loc", ("",))
        where = ".".join(str(part) for part in path if part != "payload") or str(source)
        lines.append(f"{where}: {error.get('msg', 'invalid')}")
    return "The request is not valid: " + "; ".join(lines[:5]), lines


def install_handlers(api: NinjaAPI) -> None:
    def on_api_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, ApiError):
            return error_response(
                exc.status_code,
                exc.message,
                details=exc.details,
                uncertain=exc.uncertain,
                headers=exc.headers,
            )
        return error_response(exc.status_code, exc.message)

    def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(
            401,
            "Send a valid API token: Authorization: Bearer <token> (create one on the API "
            "tokens page). A session cookie does not authenticate the API.",
            headers={"WWW-Authenticate": BEARER_CHALLENGE},
        )

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        message, lines = _validation_message(exc.errors)
        return error_response(400, message, details=lines)

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(404, "Not found.")

    def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(413, "The request body is larger than this server accepts.")

    def on_bug(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django's own handling: logged and reported (error e-mails, the report filter), then
        # rewritten as JSON by JsonErrorsMiddleware.
        raise exc

    handlers: dict[type[Exception], Callable[..., HttpResponse]] = {
        HttpError: on_api_error,
        AuthenticationError: on_unauthenticated,
        ValidationError: on_validation,
        Http404: on_not_found,
        RequestDataTooBig: on_too_big,
        Exception: on_bug,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, handler)


class JsonErrorsMiddleware:
    """Errors Django answers for itself under /api/ (an address or method the API does not
    have, a host not allowed, a server error) become JSON with a message, like the API's own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        if status == 404:
            message = "Not found: the API has no such address (see /api/v1/docs)."
        elif status == 405:
            allowed = response.get("Allow", "")
            message = f"{request.method} is not allowed here; this address answers {allowed}."
        elif status >= 500:
            message = "Server error. It has been logged; try again later."
        elif status in HTTPStatus._value2member_map_:
            message = f"{HTTPStatus(status).phrase}."
        else:
            message = f"Error {status}."
        headers = {name: response[name] for name in KEPT_HEADERS if name in response}
        return error_response(status, message, headers=headers)
