"""Firecrawl's webhooks at the edge (firecrawl_api.webhooks): the signature and the envelope of
a delivery, built here exactly as the simulator (and the server's code) builds them."""

import hashlib
import hmac
import json
import uuid

import pytest

from fakecrawl.webhooks import payload
from firecrawl_api.webhooks import (
    MalformedEvent,
    UnknownEventType,
    WebhookEvent,
    sign,
    signature_matches,
    webhook_request,
)

JOB = str(uuid.uuid4())
DELIVERY = str(uuid.uuid4())


def delivery(type_: str = "crawl.page", *, success: bool = True, **fields: object) -> bytes:
    data = b'[{"markdown":"# Hello","metadata":{"sourceURL":"https://example.test/"}}]'
    return payload(
        success=success,
        type_=type_,
        job_id=str(fields.get("job_id", JOB)),
        webhook_id=str(fields.get("webhook_id", DELIVERY)),
        data=data,
        error=None if success else "Timed out",
        metadata=dict(fields.get("metadata", {})),  # type: ignore[call-overload]
    )


def test_an_event_is_read_from_what_firecrawl_sends() -> None:
    event = WebhookEvent.from_body(
        delivery("batch_scrape.started", metadata={"dashboard_start": "abc"})
    )

    assert event == WebhookEvent(
        kind="batch",
        event="started",
        job_id=JOB,
        webhook_id=DELIVERY,
        success=True,
        metadata={"dashboard_start": "abc"},
    )
    assert event.type == "batch_scrape.started"


@pytest.mark.parametrize(
    ("type_", "kind", "name"),
    [
        ("crawl.started", "crawl", "started"),
        ("crawl.page", "crawl", "page"),
        ("crawl.completed", "crawl", "completed"),
        ("crawl.failed", "crawl", "failed"),
        ("batch_scrape.page", "batch", "page"),
        ("batch_scrape.completed", "batch", "completed"),
    ],
)
def test_the_event_type_names_the_jobs_kind_and_what_happened(
    type_: str, kind: str, name: str
) -> None:
    event = WebhookEvent.from_body(delivery(type_))

    assert (event.kind, event.event) == (kind, name)


def test_a_failed_page_is_a_page_event_with_success_false() -> None:
    assert WebhookEvent.from_body(delivery(success=False)).failed_page
    assert not WebhookEvent.from_body(delivery()).failed_page
    assert WebhookEvent.from_body(delivery("crawl.completed")).ends_job


def test_ids_are_read_as_lowercase_uuids() -> None:
    event = WebhookEvent.from_body(delivery(job_id=JOB.upper(), webhook_id=DELIVERY.upper()))

    assert (event.job_id, event.webhook_id) == (JOB, DELIVERY)


@pytest.mark.parametrize(
    "type_", ["extract.started", "monitor.page", "crawl.paused", "crawl", "", "batch_scrape."]
)
def test_types_other_than_batch_and_crawl_events_are_unknown(type_: str) -> None:
    with pytest.raises(UnknownEventType):
        WebhookEvent.from_body(delivery(type_))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"crawl.page"',
        b'{"success":true,"type":"crawl.page"',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"success": True, "type": 7, "id": JOB, "webhookId": DELIVERY}).encode(),
        json.dumps(
            {"success": "yes", "type": "crawl.page", "id": JOB, "webhookId": DELIVERY}
        ).encode(),
        json.dumps(
            {"success": True, "type": "crawl.page", "id": "1", "webhookId": DELIVERY}
        ).encode(),
        json.dumps({"success": True, "type": "crawl.page", "id": JOB}).encode(),
        json.dumps(
            {
                "success": True,
                "type": "crawl.page",
                "id": JOB,
                "webhookId": DELIVERY,
                "metadata": [],
            }
        ).encode(),
    ],
    ids=[
        "empty",
        "not-json",
        "array",
        "string",
        "cut-short",
        "not-utf8",
        "too-deep",
        "type-not-text",
        "success-not-bool",
        "id-not-uuid",
        "no-webhook-id",
        "metadata-not-object",
    ],
)
def test_bodies_that_are_not_events_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        WebhookEvent.from_body(body)


def test_metadata_keeps_only_short_text_values() -> None:
    metadata = {f"k{i}": "v" * 500 for i in range(50)} | {"n": 3}
    body = json.dumps(
        {
            "success": True,
            "type": "crawl.page",
            "id": JOB,
            "webhookId": DELIVERY,
            "metadata": metadata,
        }
    ).encode()

    kept = WebhookEvent.from_body(body).metadata

    assert len(kept) <= 20
    assert all(len(value) <= 200 for value in kept.values())


def test_the_signature_is_sha256_hmac_of_the_raw_body_as_firecrawl_sends_it() -> None:
    body = delivery()

    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()

    assert sign("s3cret", body) == expected
    assert signature_matches("s3cret", body, expected)


def one_digit_off(signature: str) -> str:
    """The signature with its last hex digit changed (to another digit, whatever it was)."""
    return signature[:-1] + ("1" if signature.endswith("0") else "0")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "deadbeef",
        sign("another secret", delivery()),
        sign("s3cret", delivery() + b" "),
        sign("s3cret", delivery()).removeprefix("sha256="),
        one_digit_off(sign("s3cret", delivery())),
    ],
    ids=[
        "missing",
        "empty",
        "no-digest",
        "no-prefix-junk",
        "other-secret",
        "other-body",
        "bare-digest",
        "one-digit-off",
    ],
)
def test_a_signature_matches_only_the_exact_body_under_the_secret(header: str | None) -> None:
    assert not signature_matches("s3cret", delivery(), header)


def test_the_webhook_a_start_request_registers_asks_for_every_event() -> None:
    webhook = webhook_request("https://dash.example.com/keys/webhook/t/", {"dashboard_start": "x"})

    assert webhook == {
        "url": "https://dash.example.com/keys/webhook/t/",
        "metadata": {"dashboard_start": "x"},
        "events": ["started", "page", "completed", "failed"],
    }
