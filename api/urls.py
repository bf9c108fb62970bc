"""The API's address book: /api/v1/ with its OpenAPI document (/api/v1/openapi.json) and docs
page (/api/v1/docs, served from this app: no CDN), and every operation's error handling."""

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.parser import Parser

from api import documents, exports, jobs, start
from api.errors import install_handlers

DESCRIPTION = """\
Your jobs, their cached documents and their downloads, for scripts and pipelines.

**Authentication.** Every operation needs a personal API token (account menu, **API tokens**):
`Authorization: Bearer <token>`. A read-only token reads; a read-and-write token also tracks,
starts, retries and stops tracking jobs (else 403). A session cookie never authenticates the
API, and the API never sets a cookie.

**Errors** are JSON with a `message`: 400 (a bad query or body, with what is wrong), 401 (no
valid token), 403 (a read-only token writing), 404 (no such job, or another user's: the same
answer), 409, 413 (over a limit of this server), 429 (the token's requests per minute; see
`Retry-After`).

**Lists** come in cursor pages: `{"results": [...], "next": url-or-null}`; follow `next` until it
is null. A job's `{id}` is the dashboard's id; Firecrawl's id is the job's `firecrawl_id`.
"""


class ObjectBodies(Parser):
    """A body is a JSON object: django-ninja would read a list or a number as "no fields"."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


class Docs(Swagger):
    """Swagger UI in a page of ours: its scripts carry the page's CSP nonce, as every script of
    the app does (ninja's own template has none), and it links back to the dashboard."""

    template = "api/docs.html"


api = NinjaAPI(
    title="Firecrawl dashboard API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    parser=ObjectBodies(),
    # Swagger UI from django-ninja's own static files, not a CDN; no online validator badge.
    docs=Docs(settings={"validatorUrl": None, "persistAuthorization": False}),
)
install_handlers(api)
for module in (jobs, documents, exports, start):
    api.add_router("", module.router)

app_name = "api"
# Tokens authenticate every operation (api.auth); the site's log-in requirement, which would
# redirect a script to the log-in page, does not apply here. The document and the docs page
# are public: they describe the API, nothing of anyone's.
urlpatterns = api.urls[0]
for pattern in urlpatterns:
    assert pattern.callback is not None
    login_not_required(pattern.callback)
