"""Notifications by email, through a real SMTP server (aiosmtpd in this process): one message per
event across repeated rounds, digests, the per-user interval, unsubscribe and mute, retries and
giving up (shown on the page). The worker killed mid-send is tests/notifications/test_crash.py."""

import re
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job
from keys.models import ApiKey
from notifications import models
from notifications.models import Message, Notification, NotificationSettings
from notifications.tasks import enqueue_due_notifications
from tests.notifications.conftest import SILENCING, Mailbox, settled_job, subscribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def rounds(n: int = 1) -> None:
    """What the worker's scheduler does every few seconds (its sends run at once here)."""
    for _ in range(n):
        enqueue_due_notifications()


def body(message: EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_a_finished_job_is_one_email_however_many_rounds_run(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    job = settled_job(key, label="Docs site", failed_count=2)
    rounds(5)
    assert smtp.count() == 1
    mail = smtp.messages[0]
    assert mail["To"] == "alice@example.test" and mail["From"] == "dashboard@example.test"
    assert mail["Subject"] == "Job finished: Docs site (completed)"
    text = body(mail)
    assert "Docs site: completed" in text
    assert "10 pages scraped, 2 failed, 10 credits, all 10 documents cached" in text
    assert f"https://dash.example.test/jobs/{job.pk}/" in text
    assert f"https://dash.example.test/jobs/{job.pk}/download.zip" in text
    assert f"https://dash.example.test/jobs/{job.pk}/failed.csv" in text
    html = body(mail, "html")
    assert "<strong>Docs site</strong>" in html and "Download zip" in html
    sent = Message.objects.get()
    assert mail["Message-ID"] == f"<{sent.uid}@dash.example.test>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sent.status == Message.Status.SENT and sent.attempts == 1
    assert sent.recipient == "alice@example.test"


def test_a_cancelled_job_tells_its_cancelled_urls_apart_from_its_failures(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    settled_job(
        key, label="Stopped", status=Job.Status.CANCELLED, failed_count=1, cancelled_count=187,
        completed=13, total=200, documents_cached=13, next_skip=13,
    )  # fmt: skip
    rounds(5)
    assert smtp.count() == 1
    assert "13 pages scraped, 1 failed, 187 cancelled, 10 credits" in body(smtp.messages[0])


def test_500_jobs_finishing_together_make_one_digest(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    for n in range(500):
        settled_job(key, label=f"Batch {n:03}")
    rounds(3)
    assert smtp.count() == 1
    mail = smtp.messages[0]
    assert mail["Subject"] == "500 jobs finished"
    text = body(mail)
    assert text.count(": completed\n") == 50  # told in full; the rest counted
    assert "... and 450 more: https://dash.example.test/" in text
    assert Notification.objects.filter(message__isnull=False).count() == 500


def test_the_users_interval_holds_the_next_message_back(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)  # at most one message of a kind a minute
    settled_job(key, label="First")
    rounds()
    settled_job(key, label="Second")
    settled_job(key, label="Third")
    rounds(3)
    assert smtp.count() == 1
    # A minute later the two that waited go together.
    Message.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    rounds(2)
    assert smtp.count() == 2
    assert smtp.messages[1]["Subject"] == "2 jobs finished"


def test_each_kind_has_its_own_message(alice: Any, key: ApiKey, smtp: Mailbox) -> None:
    subscribe(alice)
    settled_job(key, label="Done")
    settled_job(
        key,
        label="Stuck",
        sync_state=Job.SyncState.PAUSED,
        trouble_since=timezone.now(),
        last_error="Firecrawl rejected the API key (401)",
    )
    rounds(2)
    subjects = sorted(mail["Subject"] for mail in smtp.messages)
    assert subjects == ["Job finished: Done (completed)", "Job needs attention: Stuck (paused)"]
    attention = next(mail for mail in smtp.messages if "Stuck" in mail["Subject"])
    text = body(attention)
    assert "Problem: Firecrawl rejected the API key (401)" in text
    assert "press Refresh now" in text


def test_an_expiring_uncached_job_is_announced_in_time(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    settled_job(
        key, label="Big crawl", sync_state=Job.SyncState.ACTIVE, status="scraping",
        fully_cached=False, total=1000, completed=900, documents_cached=300, next_skip=300,
        expires_at=timezone.now() + timedelta(minutes=90), settled_at=None,
    )  # fmt: skip
    rounds(2)
    assert smtp.count() == 1
    mail = smtp.messages[0]
    assert mail["Subject"] == "Job needs attention: Big crawl (expiring uncached)"
    assert "only 300 of 1,000 documents are cached" in body(mail)


def test_the_unsubscribe_link_stops_that_kind_of_email_and_no_other(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    settled_job(key)
    rounds()
    link = re.fullmatch(
        r"<https://dash\.example\.test(/\S+)>", smtp.messages[0]["List-Unsubscribe"]
    )
    assert link is not None
    # A mail client's one-click button: a POST without log-in or CSRF token (RFC 8058).
    response = Client(enforce_csrf_checks=True).post(link[1], {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    prefs = NotificationSettings.objects.get(user=alice)
    assert not prefs.email_finished and prefs.email_attention
    Message.objects.update(created_at=timezone.now() - timedelta(hours=1))
    settled_job(key, label="After")
    settled_job(key, label="Stuck", sync_state=Job.SyncState.PAUSED,
                trouble_since=timezone.now())  # fmt: skip
    rounds(2)
    assert [mail["Subject"] for mail in smtp.messages[1:]] == [
        "Job needs attention: Stuck (paused)"
    ]


@pytest.mark.parametrize("silenced", SILENCING)
def test_a_job_muted_or_no_longer_tracked_after_its_event_was_found_is_not_sent(
    alice: Any, key: ApiKey, smtp: Mailbox, settings: Any, silenced: str
) -> None:
    subscribe(alice)
    job = settled_job(key)
    settings.NOTIFY_DIGEST_SECONDS = 60
    rounds()  # found, waiting for others
    assert Notification.objects.pending().count() == 1
    SILENCING[silenced](job)
    settings.NOTIFY_DIGEST_SECONDS = 0
    rounds(2)
    assert smtp.count() == 0
    assert Notification.objects.get().skipped


def test_a_mail_server_refusing_for_now_is_retried_then_given_up_and_shown_on_the_page(
    alice: Any,
    key: ApiKey,
    smtp: Mailbox,
    alice_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(models, "MAX_ATTEMPTS", 3)
    subscribe(alice)
    settled_job(key, label="Unlucky")
    smtp.reply = "451 4.3.0 Mailbox busy, try later"
    rounds()
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.PENDING, 1)
    page = alice_client.get("/notifications/").content.decode()
    assert "Retrying (attempt 2" in page and "Mailbox busy, try later" in page
    rounds(5)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 3)
    smtp.reply = None
    rounds(2)
    assert smtp.count() == 0  # given up is given up
    page = alice_client.get("/notifications/").content.decode()
    assert "Gave up after 3 attempts" in page and "451" in page


def test_a_permanent_refusal_is_given_up_at_once(alice: Any, key: ApiKey, smtp: Mailbox) -> None:
    subscribe(alice)
    settled_job(key)
    smtp.reply = "550 5.1.1 No such user here"
    rounds(3)
    message = Message.objects.get()
    assert (message.status, message.attempts) == (Message.Status.FAILED, 1)
    assert "No such user here" in message.last_error


def test_a_stalled_mail_server_is_cut_off_at_the_send_timeout(
    alice: Any, key: ApiKey, smtp: Mailbox, settings: Any
) -> None:
    settings.NOTIFY_SEND_TIMEOUT = 1
    subscribe(alice)
    settled_job(key)
    smtp.hold = True  # accepts the connection, never answers the message
    rounds()
    message = Message.objects.get()
    assert message.status == Message.Status.PENDING and message.attempts == 1
    assert "took longer than 1 s" in message.last_error
    assert smtp.count() == 0


def test_an_address_removed_before_sending_drops_the_message(
    alice: Any, key: ApiKey, smtp: Mailbox, settings: Any
) -> None:
    subscribe(alice)
    settled_job(key)
    settings.NOTIFY_DIGEST_SECONDS = 60
    rounds()
    alice.email = ""
    alice.save()
    settings.NOTIFY_DIGEST_SECONDS = 0
    rounds()
    assert smtp.count() == 0
    assert Notification.objects.get().skipped


def test_a_message_sent_twice_by_mistake_goes_out_once(
    alice: Any, key: ApiKey, smtp: Mailbox, settings: Any
) -> None:
    from notifications.tasks import send_message

    subscribe(alice)
    settled_job(key)
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    rounds()  # the message is made and its send queued (and not run)
    message = Message.objects.get()
    # Two tasks for one message (two schedulers, a lost task queued again): one claim wins.
    assert send_message(message.pk) is True
    assert send_message(message.pk) is False
    assert smtp.count() == 1


def test_a_hostile_label_stays_text_in_the_subject_and_the_html(
    alice: Any, key: ApiKey, smtp: Mailbox
) -> None:
    subscribe(alice)
    settled_job(key, label='<img src=x onerror="alert(1)">\r\nBcc: eve@example.test')
    rounds()
    [mail] = smtp.messages
    assert mail["Bcc"] is None and mail["To"] == "alice@example.test"
    assert mail["Subject"].startswith('Job finished: <img src=x onerror="alert(1)"> Bcc: eve@')
    html = body(mail, "html")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
