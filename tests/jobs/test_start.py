"""Starting batches and crawls from the Start page: the forms, the confirmation step, one job per
press of Confirm however often it is pressed, and every refusal Firecrawl can answer, each
leaving nothing tracked."""

import json
import re
import socket
import threading
import uuid
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from fakecrawl import FakeFirecrawl, Fault
from jobs.forms.start import ConfirmStartForm
from jobs.models import Document, FailedUrl, Job, ProgressSample, StartRequest, start_requests
from jobs.starting import sends_idempotency_key
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job

pytestmark = [pytest.mark.sim(credits=1000), pytest.mark.key(api_version="v2", name="Starter")]

URLS = ["https://shop.example.com/a", "https://shop.example.com/b", "https://shop.example.com/c"]


def make_key(owner: User, sim: FakeFirecrawl, version: str = "v2", **fields: Any) -> ApiKey:
    return ApiKey.objects.create(
        owner=owner,
        name=fields.pop("name", f"Starter {version}"),
        key=fields.pop("key", KEY),
        api_url=fields.pop("api_url", sim.url),
        api_version=version,
        is_default=fields.pop("is_default", True),
        **fields,
    )


def text_of(response: Any) -> str:
    html = response.content.decode()
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def payload_of(response: Any) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert match, text_of(response)[:2000]
    return match.group(1)


def posts(sim: FakeFirecrawl) -> list[Any]:
    return [r for r in sim.requests if r.method == "POST"]


def body_of(record: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(record.body)
    return body


def confirm_batch(client: Client, urls: list[str] = URLS, **fields: Any) -> Any:
    """Fill in the batch form and get the confirmation page."""
    data = {"urls": "\n".join(urls), "formats": ["markdown"], "only_main_content": "on", **fields}
    return client.post("/start/batch/", data)


def confirm_crawl(client: Client, url: str = "https://docs.example.com", **fields: Any) -> Any:
    data = {"url": url, "limit": "20", "formats": ["markdown"], "only_main_content": "on"}
    return client.post("/start/crawl/", {**data, **fields})


def nothing_tracked() -> bool:
    return not (
        Job.objects.exists()
        or Document.objects.exists()
        or FailedUrl.objects.exists()
        or ProgressSample.objects.exists()
    )


# The forms ----------------------------------------------------------------------------------


def test_the_start_page_offers_a_batch_and_a_crawl(alice_client: Client, key: ApiKey) -> None:
    html = alice_client.get("/start/").content.decode()
    for label in ("URLs", "Start URL", "Limit", "Max depth", "Include paths", "Exclude paths"):
        assert f">{label}</label>" in html, label
    assert ">Start batch</button>" in html and ">Start crawl</button>" in html
    assert 'aria-current="page">Start</a>' in html


def test_without_a_key_the_start_page_sends_people_to_add_one(alice_client: Client) -> None:
    html = alice_client.get("/start/").content.decode()
    assert "Add a Firecrawl API key first" in html and "Start batch" not in html


def test_the_start_page_refuses_unknown_parameters(alice_client: Client, key: ApiKey) -> None:
    response = alice_client.get("/start/?kind=crawl")
    assert response.status_code == 400
    assert "Unknown parameter(s): kind." in text_of(response)


def test_a_batch_is_confirmed_with_its_count_and_credits_before_anything_starts(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = confirm_batch(alice_client, [*URLS, URLS[0], "shop.example.com/d"])

    page = text_of(response)
    assert "Confirm the batch" in page
    assert "4 URLs (1 duplicate left out)" in page
    assert "Estimated credits 4 (one per page)" in page
    assert "Remaining credits 1,000" in page
    assert "https://shop.example.com/d" in page  # a URL without a scheme gets https://
    assert ">Confirm</button>" in response.content.decode()
    assert posts(sim) == [] and nothing_tracked()


def test_confirm_starts_the_batch_and_lands_on_its_job(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload = payload_of(
        confirm_batch(alice_client, formats=["markdown", "links"], label="Shop pages")
    )

    response = alice_client.post("/start/confirm/", {"payload": payload})

    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.kind_confirmed, job.label) == ("batch", True, "Shop pages")
    assert job.target_url == URLS[0] and job.api_key == key
    assert job.start_options == {
        "formats": ["markdown", "links"],
        "onlyMainContent": True,
        "ignoreInvalidURLs": True,
    }
    assert job.sync_queued_for is not None  # tracked at once
    [start] = posts(sim)
    assert start.path == "/v2/batch/scrape"
    assert body_of(start) == {**job.start_options, "urls": URLS}
    page = text_of(alice_client.get(response["Location"]))
    assert "Started on Firecrawl." in page and "First URL: https://shop.example.com/a" in page


def test_urls_firecrawl_finds_invalid_are_skipped_and_shown_on_the_job(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    # Firecrawl refuses localhost; our form only wants a web address.
    payload = payload_of(confirm_batch(alice_client, [URLS[0], "http://localhost/page"]))

    response = alice_client.post("/start/confirm/", {"payload": payload}, follow=True)

    job = Job.objects.get()
    assert job.invalid_urls == ["http://localhost/page"]
    page = text_of(response)
    assert "Firecrawl skipped 1 invalid URL" in page and "http://localhost/page" in page


def test_lines_that_are_not_web_addresses_are_named(alice_client: Client, key: ApiKey) -> None:
    response = confirm_batch(alice_client, [URLS[0], "not a url", "ftp://files.example.com/x"])

    page = text_of(response)
    assert "Line 2 is not a web address: “not a url”" in page
    assert "Line 3 is not a web address: “ftp://files.example.com/x”" in page
    assert "Start a batch" in page and "Confirm the batch" not in page


def test_an_empty_batch_is_refused(alice_client: Client, key: ApiKey) -> None:
    page = text_of(confirm_batch(alice_client, ["", "  ", "# a comment"]))
    assert "Give at least one URL, in the box or in a file." in page


def test_a_txt_or_csv_file_of_urls_is_read(alice_client: Client, key: ApiKey) -> None:
    txt = SimpleUploadedFile(
        "urls.txt", "\ufeffhttps://a.example.com/1\n\nhttps://a.example.com/2\n".encode()
    )
    response = alice_client.post("/start/batch/", {"upload": txt, "formats": ["html"]})
    assert "2 URLs" in text_of(response)

    csv = SimpleUploadedFile(
        "export.csv",
        b'title,url\n"Home, sweet",https://b.example.com/\nDocs,https://b.example.com/docs\n',
    )
    response = alice_client.post(
        "/start/batch/", {"upload": csv, "urls": URLS[0], "formats": ["html"]}
    )
    page = text_of(response)
    assert "3 URLs" in page and "https://b.example.com/docs" in page


def test_uploads_are_limited_in_size_and_kind(
    alice_client: Client, key: ApiKey, settings: Any
) -> None:
    settings.FIRECRAWL_START_MAX_UPLOAD_BYTES = 100
    big = SimpleUploadedFile("urls.txt", b"https://a.example.com/\n" * 10)
    page = text_of(alice_client.post("/start/batch/", {"upload": big, "formats": ["html"]}))
    assert "That file is larger than this server accepts (100 bytes)." in page

    pdf = SimpleUploadedFile("urls.pdf", b"https://a.example.com/")
    page = text_of(alice_client.post("/start/batch/", {"upload": pdf, "formats": ["html"]}))
    assert "Upload a .txt or .csv file." in page


def test_the_number_of_urls_is_limited_by_a_setting(
    alice_client: Client, key: ApiKey, settings: Any
) -> None:
    settings.FIRECRAWL_START_MAX_URLS = 2
    page = text_of(confirm_batch(alice_client))
    assert "That is 3 lines; this server starts at most 2 URLs at once." in page
    page = text_of(confirm_crawl(alice_client, limit="3"))
    assert "Ensure this value is less than or equal to 2." in page


def test_change_goes_back_to_the_form_filled_in(alice_client: Client, key: ApiKey) -> None:
    payload = payload_of(confirm_batch(alice_client, label="Keep me"))

    response = alice_client.post("/start/confirm/", {"payload": payload, "edit": "1"})

    html = response.content.decode()
    assert "Start a batch" in html and 'value="Keep me"' in html
    assert "\n".join(URLS) in html
    assert not StartRequest.objects.exists()


def test_a_crawl_is_confirmed_with_its_limit_and_started_with_its_options(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = confirm_crawl(
        alice_client,
        max_depth="2",
        include_paths="^/docs\n^/blog",
        exclude_paths="^/docs/old",
        formats=["markdown", "html"],
        only_main_content="",
    )
    page = text_of(response)
    assert "Start URL https://docs.example.com" in page
    assert "Estimated credits up to 20 (one per page crawled)" in page

    alice_client.post("/start/confirm/", {"payload": payload_of(response)})

    job = Job.objects.get()
    assert (job.kind, job.kind_confirmed) == ("crawl", True)
    assert job.target_url == "https://docs.example.com"
    [start] = posts(sim)
    assert start.path == "/v2/crawl"
    assert body_of(start) == {
        "url": "https://docs.example.com",
        "limit": 20,
        "maxDiscoveryDepth": 2,
        "includePaths": ["^/docs", "^/blog"],
        "excludePaths": ["^/docs/old"],
        "scrapeOptions": {"formats": ["markdown", "html"], "onlyMainContent": False},
    }
    assert "Start URL: https://docs.example.com" in text_of(alice_client.get(f"/jobs/{job.pk}/"))


def test_a_v1_crawl_says_max_depth_as_v1_does(alice: User, sim: FakeFirecrawl) -> None:
    make_key(alice, sim, "v1")
    client = Client()
    client.force_login(alice)
    payload = payload_of(confirm_crawl(client, max_depth="3"))
    client.post("/start/confirm/", {"payload": payload})
    [start] = posts(sim)
    assert start.path == "/v1/crawl" and body_of(start)["maxDepth"] == 3
    assert Job.objects.get().kind == "crawl"


def test_credits_unknown_on_a_self_hosted_server_are_said_so(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    sim.add_key("fc-selfhosted00000000000000000000x1", team="self", credits=None)
    make_key(alice, sim, key="fc-selfhosted00000000000000000000x1")
    page = text_of(confirm_batch(alice_client))
    assert "Remaining credits unknown: this Firecrawl server does not report credits" in page


def test_fewer_credits_than_the_estimate_are_a_warning_not_a_wall(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    sim.add_key("fc-poor000000000000000000000000p0", team="poor", credits=2)
    make_key(alice, sim, key="fc-poor000000000000000000000000p0")
    response = confirm_batch(alice_client)
    assert "fewer credits left than the estimate" in text_of(response)
    assert ">Confirm</button>" in response.content.decode()


# One job per press -------------------------------------------------------------------------


def test_pressing_confirm_again_lands_on_the_same_job(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload = payload_of(confirm_batch(alice_client))
    first = alice_client.post("/start/confirm/", {"payload": payload})

    again = alice_client.post("/start/confirm/", {"payload": payload}, follow=True)

    assert len(posts(sim)) == 1 and Job.objects.count() == 1
    assert again.redirect_chain == [(first["Location"], 302)]
    assert "This start was already confirmed; here is its job." in text_of(again)


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_starts_one_job(alice: User, sim: FakeFirecrawl) -> None:
    key = make_key(alice, sim)
    client = Client()
    client.force_login(alice)
    payload = payload_of(confirm_batch(client))
    # The first press is still waiting for Firecrawl when the second arrives.
    sim.inject(Fault.slow(1.0), method="POST", path_contains="/batch/scrape")
    responses: list[Any] = []

    def press() -> None:
        try:
            presser = Client()
            presser.force_login(alice)
            responses.append(presser.post("/start/confirm/", {"payload": payload}))
        finally:
            connection.close()

    presses = [threading.Thread(target=press) for _ in range(3)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()

    assert len(posts(sim)) == 1
    job = Job.objects.get(api_key=key)
    assert [r.status_code for r in responses] == [302, 302, 302]
    # The press that sent the start lands on its job; one that came while that press waited for
    # Firecrawl went to the page that asks again, which lands there too now the answer is in.
    landings = {
        client.get(r["Location"])["Location"]
        if r["Location"].startswith("/start/")
        else r["Location"]
        for r in responses
    }
    assert landings == {f"/jobs/{job.pk}/"}


def first_press_in_flight(client: Client, owner: User, key: ApiKey) -> tuple[str, StartRequest]:
    """A confirmation whose first press has claimed its token and is still waiting for
    Firecrawl (as a request in another worker would be)."""
    payload = payload_of(confirm_batch(client))
    confirm = ConfirmStartForm({"payload": payload}, owner=owner)
    assert confirm.is_valid()
    claim, _ = StartRequest.objects.claim(token=confirm.token, owner=owner, api_key=key)
    return payload, claim


def test_a_second_press_while_the_first_waits_does_not_wait_in_its_request(
    alice: User, alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_WEB_DEADLINE = 1  # how long a press might wait for another's answer
    payload, claim = first_press_in_flight(alice_client, alice, key)

    second = alice_client.post("/start/confirm/", {"payload": payload})

    # Sent at once to a page of its own, which reloads itself until the answer is in.
    assert second.status_code == 302
    assert second["Location"] == f"/start/confirm/{claim.token}/"
    waiting = alice_client.get(second["Location"])
    assert waiting.status_code == 200
    assert '<meta http-equiv="refresh" content="1">' in waiting.content.decode()
    assert "waiting for its answer" in text_of(waiting)
    # The first press gets Firecrawl's answer: the page now lands on its job.
    job = make_job(key, str(uuid.uuid4()))
    claim.finish(StartRequest.State.STARTED, job=job)
    landed = alice_client.get(second["Location"], follow=True)
    assert landed.redirect_chain == [(f"/jobs/{job.pk}/", 302)]
    assert "This start was already confirmed; here is its job." in text_of(landed)
    assert posts(sim) == []


def test_the_page_of_a_second_press_shows_a_failed_start_with_its_confirmation_again(
    alice: User, alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload, claim = first_press_in_flight(alice_client, alice, key)
    waiting = alice_client.post("/start/confirm/", {"payload": payload})
    claim.finish(StartRequest.State.FAILED, message="Firecrawl refused to start the batch (400).")

    page = alice_client.get(waiting["Location"])

    assert "Firecrawl refused to start the batch (400)." in text_of(page)
    # Confirm again: a new form token, and this time the start goes out.
    again = alice_client.post("/start/confirm/", {"payload": payload_of(page)})
    job = Job.objects.get(owner=alice)
    assert again["Location"] == f"/jobs/{job.pk}/" and len(posts(sim)) == 1


def test_the_page_of_a_second_press_is_its_owners_alone(
    alice: User, alice_client: Client, bob_client: Client, key: ApiKey
) -> None:
    payload, claim = first_press_in_flight(alice_client, alice, key)
    alice_client.post("/start/confirm/", {"payload": payload})

    assert bob_client.get(f"/start/confirm/{claim.token}/").status_code == 404


def test_a_confirmation_cannot_be_changed_or_used_by_someone_else(
    alice_client: Client, bob_client: Client, key: ApiKey, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload = payload_of(confirm_batch(alice_client))

    response = bob_client.post("/start/confirm/", {"payload": payload}, follow=True)
    assert "This confirmation cannot be read. Start again from the form." in text_of(response)
    tampered = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    response = alice_client.post("/start/confirm/", {"payload": tampered}, follow=True)
    assert "This confirmation cannot be read." in text_of(response)
    assert posts(sim) == [] and nothing_tracked()


def test_a_confirmation_expires(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = payload_of(confirm_batch(alice_client))
    monkeypatch.setattr(start_requests, "CONFIRM_MAX_AGE", timedelta(seconds=-1))

    response = alice_client.post("/start/confirm/", {"payload": payload}, follow=True)

    assert "This confirmation is too old." in text_of(response)
    assert posts(sim) == [] and nothing_tracked()


def test_nobody_starts_with_another_users_key(
    alice_client: Client, bob_client: Client, key: ApiKey, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    for path, data in (
        ("/start/batch/", {"urls": URLS[0], "formats": ["markdown"], "api_key": key.pk}),
        ("/start/crawl/", {"url": URLS[0], "limit": "5", "formats": ["html"], "api_key": key.pk}),
    ):
        assert bob_client.post(path, data).status_code == 404
    # Not a number at all: the form says so.
    page = text_of(bob_client.post("/start/batch/", {"urls": URLS[0], "api_key": "x"}))
    assert "Select a valid choice." in page
    html = bob_client.get("/start/").content.decode()
    assert key.name not in html and key.key_hint not in html
    assert posts(sim) == [] and not Job.objects.exists()


def test_a_retry_of_another_users_job_is_refused(
    bob_client: Client, key: ApiKey, bob_key: ApiKey
) -> None:
    from tests.conftest import make_job

    alices = make_job(key, str(uuid.uuid4()))
    assert confirm_batch(bob_client, retry_of=str(alices.pk)).status_code == 404


# What Firecrawl refuses, and nothing left behind --------------------------------------------


def assert_refused(response: Any, *expected: str) -> str:
    page = text_of(response)
    for text in expected:
        assert text in page, page[:3000]
    assert ">Confirm</button>" in response.content.decode()  # the page stays, to try again
    assert nothing_tracked()
    assert not StartRequest.objects.filter(job__isnull=False).exists()
    return page


def test_a_400_shows_firecrawls_details(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    # A host without a top-level domain: our form takes it, Firecrawl does not.
    payload = payload_of(confirm_crawl(alice_client, "http://localhost/docs"))

    response = alice_client.post("/start/confirm/", {"payload": payload})

    assert_refused(
        response,
        "Firecrawl refused to start the crawl (400). What it found wrong:",
        "url: URL must have a valid top-level domain or be an IP address",
    )
    assert len(posts(sim)) == 1


def test_a_400_without_details_shows_firecrawls_error(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload = payload_of(confirm_batch(alice_client, ["http://localhost/a", "http://localhost/b"]))
    response = alice_client.post("/start/confirm/", {"payload": payload})
    assert_refused(response, "Firecrawl refused to start the batch (400): No valid URLs provided.")


def test_a_402_says_the_team_is_out_of_credits(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    sim.add_key("fc-broke00000000000000000000000b0", team="broke", credits=1)
    make_key(alice, sim, key="fc-broke00000000000000000000000b0")
    payload = payload_of(confirm_batch(alice_client))

    response = alice_client.post("/start/confirm/", {"payload": payload})

    assert_refused(response, "this key's team is out of credits (402)")


def test_a_429_says_when_to_press_again(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    payload = payload_of(confirm_batch(alice_client))
    sim.inject(Fault.rate_limit(wait_text=12), method="POST")

    response = alice_client.post("/start/confirm/", {"payload": payload})

    assert_refused(response, "Rate limited by Firecrawl, retry in 12 s. Nothing was started")
    # Pressing Confirm on the page it came back with starts the batch.
    alice_client.post("/start/confirm/", {"payload": payload_of(response)})
    assert Job.objects.count() == 1 and len(posts(sim)) == 2


def test_our_own_request_budget_holds_a_start_back_before_it_is_sent(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    payload = payload_of(confirm_batch(alice_client))
    ApiKey.objects.filter(pk=key.pk).update(
        budget_window=timezone.now().replace(second=0, microsecond=0),
        budget_used=settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE,
    )
    response = alice_client.post("/start/confirm/", {"payload": payload})
    assert_refused(response, "Holding back: this key's budget", "Nothing was started")
    assert posts(sim) == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_says_nothing_was_started(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim)
    payload = payload_of(confirm_batch(alice_client))
    ApiKey.objects.filter(pk=key.pk).update(api_url=f"http://127.0.0.1:{closed_port()}")

    response = alice_client.post("/start/confirm/", {"payload": payload})

    # No connection was made, so no request went out: that is certain, not "may have".
    page = assert_refused(response, "Could not reach Firecrawl", "connection refused")
    assert "Nothing was started" in page and "may or may not" not in page
    assert StartRequest.objects.get().state == "failed"
    # The confirmation comes back with a fresh form: pressing Confirm again is safe.
    assert 'name="payload"' in response.content.decode()


def test_a_lost_answer_without_idempotency_is_never_sent_twice_from_the_same_form(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    # v2 batch: Firecrawl does not check idempotency keys there. The answer is lost after
    # Firecrawl started the batch.
    payload = payload_of(confirm_batch(alice_client))
    sim.inject(Fault.drop(), method="POST")

    response = alice_client.post("/start/confirm/", {"payload": payload})

    assert_refused(response, "it may or may not have started the job")
    assert "x-idempotency-key" not in {h.lower() for h in posts(sim)[0].headers}
    alice_client.post("/start/confirm/", {"payload": payload})
    assert len(posts(sim)) == 1


def test_a_reused_idempotency_key_is_a_409_that_starts_nothing_twice(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_IDEMPOTENCY_URLS = [sim.url]
    payload = payload_of(confirm_crawl(alice_client))
    # Firecrawl starts the crawl, and its answer is lost on the way back.
    sim.inject(Fault.drop(), method="POST")

    lost = alice_client.post("/start/confirm/", {"payload": payload})

    assert_refused(lost, "Firecrawl may have started the crawl; pressing Confirm again is safe")
    # Pressing Confirm on that page sends the same idempotency key: Firecrawl refuses (409).
    again = alice_client.post("/start/confirm/", {"payload": payload_of(lost)})

    assert_refused(again, "Firecrawl has already received this start once (409")
    first, second = posts(sim)
    key_header = "x-idempotency-key"
    sent = [{k.lower(): v for k, v in p.headers.items()}[key_header] for p in (first, second)]
    assert sent[0] == sent[1] and uuid.UUID(sent[0])
    # One crawl started upstream (its answer lost), the second press refused.
    assert [p.status for p in posts(sim)] == [200, 409]


def test_a_self_hosted_server_without_its_database_fails_with_500_when_given_a_key(
    alice: User, alice_client: Client, settings: Any
) -> None:
    settings.FIRECRAWL_IDEMPOTENCY_URLS = ["*"]
    with FakeFirecrawl(seed=5, idempotency_db=False, activity=False) as nodb:
        nodb.add_key(KEY, team="nodb", credits=None)
        make_key(alice, nodb, "v1")
        payload = payload_of(confirm_batch(alice_client))

        response = alice_client.post("/start/confirm/", {"payload": payload})

        assert_refused(
            response,
            "Firecrawl had an internal error (500)",
            "remove it from FIRECRAWL_IDEMPOTENCY_URLS",
        )


def test_a_self_hosted_server_without_its_database_starts_jobs_by_default(
    alice: User, alice_client: Client
) -> None:
    # FIRECRAWL_IDEMPOTENCY_URLS is hosted Firecrawl alone: no header, no 500.
    with FakeFirecrawl(seed=5, idempotency_db=False, activity=False) as nodb:
        nodb.add_key(KEY, team="nodb", credits=None)
        make_key(alice, nodb, "v1")
        alice_client.post("/start/confirm/", {"payload": payload_of(confirm_crawl(alice_client))})
        assert Job.objects.get().kind == "crawl"
        [start] = posts(nodb)
        assert "x-idempotency-key" not in {h.lower() for h in start.headers}


@pytest.mark.parametrize(
    ("url", "version", "kind", "sent"),
    [
        ("https://api.firecrawl.dev", "v1", "batch", True),
        ("https://api.firecrawl.dev/", "v2", "crawl", True),
        ("https://api.firecrawl.dev", "v1", "crawl", True),
        # Firecrawl's v2 batch route has no idempotency check.
        ("https://api.firecrawl.dev", "v2", "batch", False),
        # A self-hosted server may have no database (then the header fails every start).
        ("http://firecrawl.internal:3002", "v1", "crawl", False),
    ],
)
def test_the_idempotency_key_goes_only_where_firecrawl_honours_it(
    url: str, version: str, kind: str, sent: bool, alice: User
) -> None:
    key = ApiKey(owner=alice, name="k", key=KEY, api_url=url, api_version=version)
    assert sends_idempotency_key(key, kind) is sent


def test_a_rejected_key_is_said_so(alice: User, alice_client: Client, sim: FakeFirecrawl) -> None:
    key = make_key(alice, sim)
    payload = payload_of(confirm_batch(alice_client))
    ApiKey.objects.filter(pk=key.pk).update(key="fc-revoked000000000000000000000r0")
    response = alice_client.post("/start/confirm/", {"payload": payload})
    assert_refused(response, "Firecrawl rejected the API key (401).")


def test_form_tokens_are_forgotten_once_no_page_can_use_them(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    from jobs.tasks import enqueue_due_imports

    alice_client.post("/start/confirm/", {"payload": payload_of(confirm_batch(alice_client))})
    StartRequest.objects.update(created_at=timezone.now() - timedelta(days=1))
    enqueue_due_imports()
    assert not StartRequest.objects.exists() and Job.objects.count() == 1
