"""Error reports (firecrawl_dash.reporting): DEBUG's error page and the reports sent with DEBUG off
never show a posted API key or password, in the POST data or in any frame's variables."""

import base64
import sys
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.views.debug import ExceptionReporter, technical_500_response
from django.views.decorators.debug import sensitive_variables

from fakecrawl import FakeFirecrawl

KEY = "fc-5e1f0b7a9c3d42e8b6a1f4c7d9e2b0a3"
STORED_KEY = "fc-0a9b8c7d6e5f40312a3b4c5d6e7f8091"
MARKED_SECRET = "the vault code is 4711"
PASSWORD = "alices secret passphrase"
SUBSTITUTE = "********************"


def traces_of(secret: str) -> list[str]:
    return [
        secret,
        secret.removeprefix("fc-"),
        base64.b64encode(f"Bearer {secret}".encode()).decode().rstrip("="),
    ]


def assert_nowhere(secret: str, text: str) -> None:
    found = [trace for trace in traces_of(secret) if trace in text]
    assert found == [], f"{found[0]!r} is in the report"


@pytest.fixture
def debug(settings: Any) -> None:
    settings.DEBUG = True


@pytest.mark.parametrize(
    "failing",
    [
        "firecrawl_api.client.FirecrawlClient.credit_usage",  # in the form's check of the key
        "requests.adapters.HTTPAdapter.send",  # deep in requests, headers in its variables
        "keys.models.ApiKey.save",  # after validation, the key on the model
    ],
)
def test_the_key_never_appears_on_the_debug_page_of_the_key_form(
    alice: User, sim: FakeFirecrawl, debug: None, settings: Any, failing: str
) -> None:
    settings.FIRECRAWL_API_URLS = ["*"]
    sim.add_key(KEY, team="reporting")
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    form = {"name": "Work key", "key": KEY, "api_url": sim.url, "api_version": "v1"}

    with mock.patch(failing, side_effect=RuntimeError("deliberate")):
        response = client.post("/keys/", form)

    page = response.content.decode()
    assert response.status_code == 500
    assert "RuntimeError" in page and "Work key" in page  # DEBUG's page, with the POST data
    assert SUBSTITUTE in page
    assert_nowhere(KEY, page)


@sensitive_variables("note_to_self")
def fail_while_holding_secrets(request: Any) -> None:
    """A view-like function holding the posted secrets, a stored key that was never posted (as
    the sync holds one, decrypted) and a secret its author marked, in all kinds of variables."""
    key = request.POST["key"]
    api_key = STORED_KEY  # noqa: F841
    cleaned = {"key": STORED_KEY}  # noqa: F841
    client = f"Client(api_key={STORED_KEY})"  # noqa: F841
    anything = ["whatever it is called", f"Bearer {key}", request.POST["password"]]  # noqa: F841
    note_to_self = MARKED_SECRET  # noqa: F841
    harmless = "nothing to hide here"  # noqa: F841
    raise RuntimeError("deliberate")


def report_of(request: Any) -> tuple[str, str]:
    try:
        fail_while_holding_secrets(request)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        return reporter.get_traceback_html(), reporter.get_traceback_text()
    raise AssertionError("it should have raised")


@pytest.mark.parametrize("debug_on", [True, False])
def test_it_hides_keys_and_passwords_by_name_and_by_content(settings: Any, debug_on: bool) -> None:
    settings.DEBUG = debug_on
    request = RequestFactory().post(
        "/anywhere/", {"key": KEY, "password": PASSWORD, "note": "visible note"}
    )

    html, text = report_of(request)

    for report in (html, text):
        assert_nowhere(KEY, report)
        assert_nowhere(STORED_KEY, report)
        assert MARKED_SECRET not in report
        assert PASSWORD not in report
        assert "visible note" in report
    assert "nothing to hide here" in html


def test_the_real_debug_page_shows_no_password_of_a_failed_log_in(debug: None, db: Any) -> None:
    request = RequestFactory().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    try:
        raise RuntimeError("deliberate")
    except RuntimeError:
        response = technical_500_response(request, *sys.exc_info())

    page = response.content.decode()
    assert "alice" in page
    assert PASSWORD not in page
