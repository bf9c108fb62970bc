"""Who is calling: a personal API token in `Authorization: Bearer <token>`, counted against its
rate limit, and allowed to write only when its scope says so. A session never authenticates the
API: nothing here reads a cookie."""

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from accounts.models import ApiToken
from api.errors import ApiError, RateLimited


class TokenAuth(HttpBearer):
    """A valid token of an active user. `write`: only a read-and-write token (else 403)."""

    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.objects.authenticate(token)
        if found is None:
            return None  # django-ninja answers 401 (api.errors words it)
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if (wait := ApiToken.objects.spend(found.pk, limit)) is not None:
            raise RateLimited(wait, limit)
        if self.write and not found.can_write:
            raise ApiError(
                403,
                "This token is read-only. Create a token with the scope “Read and write” to "
                "track, start, retry or stop tracking jobs.",
            )
        # The views reach objects through the token's owner, as the pages do through theirs
        # (jobs.views.common.get_job_for_user): setting the user reads no session.
        request.user = found.owner
        return found


read = TokenAuth()
write = TokenAuth(write=True)
