"""The webhook receiver (keys.views.webhooks) and a key's page: what a delivery may change, and
what every refusal leaves untouched. Deliveries are built as the simulator (and Firecrawl's code)
builds them; the reads they wake are tested in tests/jobs/test_webhooks.py."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from fakecrawl.webhooks import payload
from firecrawl_api.webhooks import sign
from jobs import webhooks as job_events
from jobs.models import Job, StartRequest
from jobs.tasks import stop_tracking
from keys.models import ApiKey, WebhookReceipt
from keys.views import webhooks as receiver
from keys.views.webhooks import receive
from tests.conftest import make_job

SECRET = "whsec-0123456789abcdef"


def body_of(
    type_: str = "batch_scrape.started",
    *,
    job_id: str | None = None,
    webhook_id: str | None = None,
    success: bool = True,
    metadata: dict[str, str] | None = None,
) -> bytes:
    return payload(
        success=success,
        type_=type_,
        job_id=job_id or str(uuid.uuid4()),
        webhook_id=webhook_id or str(uuid.uuid4()),
        data=b"[]" if type_.endswith(("started", "completed")) else b'[{"markdown":"# Hi"}]',
        error=None if success else "Timed out",
        metadata=metadata or {},
    )


def deliver(
    key: ApiKey, body: bytes, *, signature: str | None = None, token: str | None = None
) -> Any:
    """POST a delivery to the key's webhook URL as Firecrawl does: no session, no CSRF token."""
    headers = {"X-Firecrawl-Signature": signature} if signature is not None else {}
    url = reverse("keys:webhook", args=[token or key.webhook_token])
    return Client(enforce_csrf_checks=True).post(
        url, body, content_type="application/json", headers=headers
    )


@pytest.fixture
def signed_key(key: ApiKey) -> ApiKey:
    key.save_webhook_settings(secret=SECRET, enabled=True)
    return key


def everything(key: ApiKey) -> dict[str, Any]:
    """What a delivery could change, the key's refusal counter aside."""
    key.refresh_from_db()
    return {
        "jobs": list(Job.objects.order_by("pk").values()),
        "receipts": list(WebhookReceipt.objects.values_list("webhook_id", flat=True)),
        "delivered_at": key.webhook_delivered_at,
    }


# Admission: token, signature, shape, replays -----------------------------------------------------


def test_a_signed_started_event_tracks_the_unknown_job_with_its_kind_as_fact(
    signed_key: ApiKey,
) -> None:
    job_id = str(uuid.uuid4())
    body = body_of("crawl.started", job_id=job_id)

    response = deliver(signed_key, body, signature=sign(SECRET, body))

    assert response.status_code == 200
    job = Job.objects.get(remote_id=job_id)
    assert (job.owner, job.api_key, job.kind, job.kind_confirmed) == (
        signed_key.owner,
        signed_key,
        Job.Kind.CRAWL,
        True,
    )
    assert job.label.startswith("Crawl announced by webhook, ")
    signed_key.refresh_from_db()
    assert signed_key.webhook_delivered_at is not None
    assert signed_key.webhook_refused == 0


def test_an_unknown_token_is_404_and_changes_nothing(signed_key: ApiKey) -> None:
    body = body_of()
    before = everything(signed_key)

    for token in ("x" * 32, signed_key.webhook_token[:-1], signed_key.webhook_token + "a"):
        assert deliver(signed_key, body, signature=sign(SECRET, body), token=token).status_code == (
            404
        )

    assert everything(signed_key) == before
    assert signed_key.webhook_refused == 0


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, sign("another secret", b"{}"), "SHA256=abc"],
    ids=["missing", "empty", "zeros", "other-body-and-secret", "junk"],
)
def test_with_a_secret_a_wrong_or_missing_signature_is_401_and_changes_nothing(
    signed_key: ApiKey, signature: str | None
) -> None:
    body = body_of()
    before = everything(signed_key)

    response = deliver(signed_key, body, signature=signature)

    assert response.status_code == 401
    assert everything(signed_key) == before
    assert signed_key.webhook_refused == 1
    assert signed_key.webhook_refusal == "a wrong or missing signature"


def test_the_signature_of_another_secret_or_another_body_is_refused(signed_key: ApiKey) -> None:
    body = body_of()
    tampered = body.replace(b"batch_scrape.started", b"crawl.started".ljust(20))

    assert deliver(signed_key, body, signature=sign("whsec-other", body)).status_code == 401
    assert deliver(signed_key, tampered, signature=sign(SECRET, body)).status_code == 401
    assert not Job.objects.exists()


def test_without_a_secret_the_token_alone_admits_a_delivery(key: ApiKey) -> None:
    job_id = str(uuid.uuid4())

    response = deliver(key, body_of(job_id=job_id))

    assert response.status_code == 200
    assert Job.objects.filter(remote_id=job_id, kind=Job.Kind.BATCH).exists()


def test_a_replayed_webhook_id_changes_nothing(signed_key: ApiKey) -> None:
    body = body_of("batch_scrape.started")
    assert deliver(signed_key, body, signature=sign(SECRET, body)).status_code == 200
    # The job's row goes without the key remembering it was stopped: only the receipt stands
    # between the replay and the job coming back.
    Job.objects.get().delete()
    before = everything(signed_key)

    response = deliver(signed_key, body, signature=sign(SECRET, body))

    assert response.status_code == 200
    assert response.json() == {"message": "Already received"}
    assert everything(signed_key) == before
    assert signed_key.webhook_refused == 0


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "The body is not valid JSON"),
        (b"[1, 2]", "The body is not a JSON object"),
        (body_of("extract.started"), "Unknown event type 'extract.started'"),
        (body_of("crawl.paused"), "Unknown event type 'crawl.paused'"),
        (body_of().replace(b'"webhookId"', b'"hookId"'), "The event's webhookId is not a UUID"),
    ],
    ids=["malformed", "array", "extract", "unknown-crawl-event", "no-webhook-id"],
)
def test_a_body_that_is_no_batch_or_crawl_event_is_400_and_changes_nothing(
    signed_key: ApiKey, body: bytes, why: str
) -> None:
    before = everything(signed_key)

    response = deliver(signed_key, body, signature=sign(SECRET, body))

    assert response.status_code == 400
    assert response.json() == {"error": why}
    assert everything(signed_key) == before
    assert (signed_key.webhook_refused, signed_key.webhook_refusal) == (1, why)


def test_a_refusal_quoting_the_delivery_is_stored_cleaned_and_cut(signed_key: ApiKey) -> None:
    body = body_of("\u202ecrawl." + "x" * 500)

    assert deliver(signed_key, body, signature=sign(SECRET, body)).status_code == 400

    signed_key.refresh_from_db()
    assert "\u202e" not in signed_key.webhook_refusal
    assert signed_key.webhook_refusal.startswith("Unknown event type")
    assert len(signed_key.webhook_refusal) <= 200


def test_a_body_over_the_size_limit_is_413_and_changes_nothing(
    signed_key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver, "MAX_BODY_BYTES", 1000)
    body = body_of("batch_scrape.page").replace(b"# Hi", b"x" * 2000)
    before = everything(signed_key)

    response = deliver(signed_key, body, signature=sign(SECRET, body))

    assert response.status_code == 413
    assert everything(signed_key) == before
    assert signed_key.webhook_refusal == "a delivery larger than 1,000 bytes"


def test_a_body_without_a_content_length_is_read_as_empty_and_refused(
    signed_key: ApiKey,
) -> None:
    # Django reads no more than the declared length: a chunked body is never read unbounded.
    body = body_of("batch_scrape.page")
    request = RequestFactory().post(
        "/",
        body,
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_X_FIRECRAWL_SIGNATURE=sign(SECRET, b""),
    )

    response = receive(request, signed_key.webhook_token)

    assert response.status_code == 400
    assert not Job.objects.exists()


def test_past_its_rate_a_webhook_url_answers_429_and_changes_nothing(
    signed_key: ApiKey, settings: Any
) -> None:
    settings.FIRECRAWL_WEBHOOK_RATE_PER_MINUTE = 3
    bodies = [body_of() for _ in range(5)]

    answers = [deliver(signed_key, b, signature=sign(SECRET, b)) for b in bodies]

    assert [a.status_code for a in answers][:3] == [200, 200, 200]
    # A minute may turn while the test runs: then one more is admitted, never all.
    assert [a.status_code for a in answers].count(429) >= 1
    refused = [a for a in answers if a.status_code == 429]
    assert all(1 <= int(a["Retry-After"]) <= 60 for a in refused)
    assert Job.objects.count() == 5 - len(refused)


def test_the_receiver_needs_no_login_and_takes_no_other_method(key: ApiKey) -> None:
    url = reverse("keys:webhook", args=[key.webhook_token])

    assert Client().get(url).status_code == 405
    assert Client().put(url, body_of(), content_type="application/json").status_code == 405


# What an accepted event does --------------------------------------------------------------------


def test_a_page_event_for_an_unknown_job_tracks_it_too(key: ApiKey) -> None:
    # A self-hosted server's SELF_HOSTED_WEBHOOK_URL only ever receives page events.
    job_id = str(uuid.uuid4())

    deliver(key, body_of("crawl.page", job_id=job_id))

    assert Job.objects.get(remote_id=job_id).kind == Job.Kind.CRAWL


def test_an_event_names_the_kind_of_a_job_tracked_by_a_bare_id(key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), kind=Job.Kind.BATCH, kind_confirmed=False)

    deliver(key, body_of("crawl.page", job_id=str(job.remote_id)))

    job.refresh_from_db()
    assert (job.kind, job.kind_confirmed) == (Job.Kind.CRAWL, True)
    assert Job.objects.count() == 1


def test_a_page_event_makes_a_tracked_job_due_and_records_it(key: ApiKey, settings: Any) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 600
    later = timezone.now() + timedelta(minutes=10)
    job = make_job(key, str(uuid.uuid4()), next_poll_at=later)

    deliver(key, body_of("batch_scrape.page", job_id=str(job.remote_id)))

    job.refresh_from_db()
    assert job.next_poll_at <= timezone.now()
    assert job.event_at is not None
    assert job.sync_queued_for is not None  # its read is queued for the worker


def test_an_event_about_a_job_its_owner_stopped_tracking_does_not_bring_it_back(
    key: ApiKey, alice_client: Client
) -> None:
    job = make_job(key, str(uuid.uuid4()))
    alice_client.post(reverse("jobs:delete_job", args=[job.pk]))

    response = deliver(key, body_of("batch_scrape.page", job_id=str(job.remote_id)))

    assert response.status_code == 200
    assert not Job.objects.tracked().exists()
    key.refresh_from_db()
    assert (key.webhook_refused, key.webhook_refusal) == (1, job_events.STOPPED)


def test_a_job_tracked_again_by_hand_hears_its_events_again(key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()))
    stop_tracking(job)
    job = make_job(key, str(job.remote_id))

    deliver(key, body_of("batch_scrape.page", job_id=str(job.remote_id)))

    job.refresh_from_db()
    assert job.event_at is not None


def test_events_never_touch_another_users_job(key: ApiKey, bob_key: ApiKey) -> None:
    bobs = make_job(bob_key, str(uuid.uuid4()))
    before = Job.objects.filter(pk=bobs.pk).values().get()

    deliver(key, body_of("batch_scrape.page", job_id=str(bobs.remote_id)))

    assert Job.objects.filter(pk=bobs.pk).values().get() == before
    # Alice's URL announced the id to Alice: she tracks it, with her key.
    assert Job.objects.get(owner=key.owner).api_key == key


def test_an_event_that_overtakes_the_start_answer_leaves_the_tracking_to_the_start(
    key: ApiKey,
) -> None:
    token = uuid.uuid4()
    StartRequest.objects.claim(token=token, owner=key.owner, api_key=key)

    deliver(key, body_of(metadata={job_events.START_TOKEN: str(token)}))

    assert not Job.objects.exists()


def test_an_event_for_a_start_whose_answer_was_lost_tracks_the_job_for_that_start(
    key: ApiKey,
) -> None:
    token = uuid.uuid4()
    start, _ = StartRequest.objects.claim(token=token, owner=key.owner, api_key=key)
    start.finish(StartRequest.State.UNCERTAIN, message="no answer")
    job_id = str(uuid.uuid4())

    deliver(key, body_of(job_id=job_id, metadata={job_events.START_TOKEN: str(token)}))

    start.refresh_from_db()
    assert start.state == StartRequest.State.STARTED
    assert start.job == Job.objects.get(remote_id=job_id)


def test_an_event_for_a_start_whose_process_stopped_waiting_tracks_the_job_for_it(
    key: ApiKey,
) -> None:
    token = uuid.uuid4()
    start, _ = StartRequest.objects.claim(token=token, owner=key.owner, api_key=key)
    # Still "starting" long past any answer: the press's process was stopped.
    StartRequest.objects.filter(pk=start.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    job_id = str(uuid.uuid4())

    deliver(key, body_of(job_id=job_id, metadata={job_events.START_TOKEN: str(token)}))

    start.refresh_from_db()
    assert (start.state, start.job) == (
        StartRequest.State.STARTED,
        Job.objects.get(remote_id=job_id),
    )


def test_another_keys_start_token_in_metadata_is_not_trusted(key: ApiKey, bob_key: ApiKey) -> None:
    token = uuid.uuid4()
    bobs, _ = StartRequest.objects.claim(token=token, owner=bob_key.owner, api_key=bob_key)
    bobs.finish(StartRequest.State.UNCERTAIN, message="no answer")

    deliver(key, body_of(metadata={job_events.START_TOKEN: str(token)}))

    bobs.refresh_from_db()
    assert bobs.state == StartRequest.State.UNCERTAIN and bobs.job is None


def test_a_key_tracks_a_bounded_number_of_new_jobs_an_hour(
    key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(job_events, "MAX_NEW_JOBS_PER_HOUR", 3)
    ids = [str(uuid.uuid4()) for _ in range(5)]

    for job_id in ids:
        assert deliver(key, body_of(job_id=job_id)).status_code == 200

    assert Job.objects.count() == 3
    key.refresh_from_db()
    assert key.webhook_refused == 2
    assert "new jobs announced in an hour" in key.webhook_refusal
    # Events about the jobs already tracked still count.
    deliver(key, body_of("batch_scrape.page", job_id=ids[0]))
    assert Job.objects.get(remote_id=ids[0]).event_at is not None


def test_receipts_past_the_replay_window_are_pruned(key: ApiKey) -> None:
    deliver(key, body_of())
    deliver(key, body_of())
    old = WebhookReceipt.objects.order_by("pk").first()
    assert old is not None
    WebhookReceipt.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(hours=2))

    assert WebhookReceipt.objects.prune() == 1
    assert WebhookReceipt.objects.count() == 1


def test_deleting_a_key_deletes_its_receipts(key: ApiKey) -> None:
    deliver(key, body_of())

    key.delete()

    assert not WebhookReceipt.objects.exists()


# The key's page ---------------------------------------------------------------------------------


def test_each_key_has_its_own_unguessable_token(key: ApiKey, bob_key: ApiKey) -> None:
    assert key.webhook_token != bob_key.webhook_token
    assert len(key.webhook_token) >= 32  # 192 bits of token_urlsafe
    assert key.key not in key.webhook_token


def test_the_key_page_shows_the_webhook_url_under_public_url(
    key: ApiKey, alice_client: Client, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://dash.example.com"

    html = alice_client.get(reverse("keys:key", args=[key.pk])).content.decode()

    url = f"https://dash.example.com/keys/webhook/{key.webhook_token}/"
    assert f'value="{url}" readonly' in html
    assert ">Webhook URL<" in html and ">Webhook secret<" in html


def test_without_public_url_the_key_page_says_what_to_set(
    key: ApiKey, alice_client: Client, settings: Any
) -> None:
    settings.PUBLIC_URL = ""

    html = alice_client.get(reverse("keys:key", args=[key.pk])).content.decode()

    assert key.webhook_token not in html
    assert "PUBLIC_URL" in html


def test_the_keys_page_links_each_key_to_its_page(key: ApiKey, alice_client: Client) -> None:
    html = alice_client.get(reverse("keys:keys")).content.decode()

    assert f'<a href="/keys/{key.pk}/">Main</a>' in html


def test_the_key_page_shows_the_last_delivery_and_the_refusals(
    signed_key: ApiKey, alice_client: Client
) -> None:
    deliver(signed_key, body_of(), signature="sha256=nope")
    body = body_of()
    deliver(signed_key, body, signature=sign(SECRET, body))

    html = alice_client.get(reverse("keys:key", args=[signed_key.pk])).content.decode()

    assert "Last delivery:" in html
    assert 'data-testid="webhook-refused">1<' in html
    assert "a wrong or missing signature" in html


def test_saving_a_first_secret_turns_registration_on_and_stores_it_encrypted(
    key: ApiKey, alice_client: Client
) -> None:
    response = alice_client.post(reverse("keys:key_webhooks", args=[key.pk]), {"secret": SECRET})

    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.webhook_secret, key.webhooks_enabled) == (SECRET, True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret FROM jobs_apikey WHERE id = %s", [key.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("gAAAA") and SECRET not in stored
    page = alice_client.get(reverse("keys:key", args=[key.pk])).content.decode()
    assert SECRET not in page


def test_unticking_registration_while_saving_a_first_secret_keeps_it_off(
    key: ApiKey, alice_client: Client
) -> None:
    key.save_webhook_settings(secret=None, enabled=True)

    alice_client.post(reverse("keys:key_webhooks", args=[key.pk]), {"secret": SECRET})

    key.refresh_from_db()
    assert key.webhooks_enabled is False


def test_an_empty_secret_keeps_the_saved_one_and_remove_drops_it(
    signed_key: ApiKey, alice_client: Client
) -> None:
    url = reverse("keys:key_webhooks", args=[signed_key.pk])

    alice_client.post(url, {"secret": "", "enabled": "on"})
    signed_key.refresh_from_db()
    assert signed_key.webhook_secret == SECRET

    alice_client.post(url, {"secret": "", "remove_secret": "on", "enabled": "on"})
    signed_key.refresh_from_db()
    assert signed_key.webhook_secret is None
    assert signed_key.webhooks_enabled is True


def test_a_secret_with_spaces_is_refused_with_a_message(key: ApiKey, alice_client: Client) -> None:
    response = alice_client.post(
        reverse("keys:key_webhooks", args=[key.pk]), {"secret": "two words"}
    )

    assert response.status_code == 400
    assert "letters, digits and punctuation only" in response.content.decode()
    key.refresh_from_db()
    assert key.webhook_secret is None


def test_another_users_key_page_is_404(key: ApiKey, bob: User) -> None:
    client = Client()
    client.force_login(bob)

    assert client.get(reverse("keys:key", args=[key.pk])).status_code == 404
    assert (
        client.post(reverse("keys:key_webhooks", args=[key.pk]), {"secret": "mine"}).status_code
        == 404
    )
    key.refresh_from_db()
    assert key.webhook_secret is None
