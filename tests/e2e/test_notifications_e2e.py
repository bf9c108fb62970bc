"""The Notifications page and the per-job mute, in Chromium: choices saved from the account menu,
a private webhook address refused on the page, and a muted job left out of the email."""

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from keys.models import ApiKey
from notifications.models import NotificationSettings
from notifications.tasks import enqueue_due_notifications
from tests.notifications.conftest import settled_job, subscribe

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def sends_at_once(settings: Any) -> None:
    # A scheduler round sends what it queues, in the test; mail goes to django.core.mail.outbox.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.NOTIFY_DIGEST_SECONDS = 0


def test_the_notifications_page_saves_the_choices_from_the_account_menu(
    alice_page: Page, alice: Any
) -> None:
    page = alice_page
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("summary", has_text="alice").click()
    nav.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    page.get_by_label("Email", exact=True).fill("alice@example.test")
    page.get_by_label("Email me when a job finishes").check()
    page.get_by_label("Email me when a job needs attention").check()
    webhook = page.get_by_label("Notification webhook URL")
    webhook.fill("http://169.254.169.254/latest/meta-data/")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("private, loopback or link-local address")
    expect(webhook).to_have_value("http://169.254.169.254/latest/meta-data/")
    assert not NotificationSettings.objects.filter(user=alice).exists()

    webhook.fill("https://93.184.215.14/hooks/dashboard")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text("Notification settings saved.")
    prefs = NotificationSettings.objects.get(user=alice)
    expect(page.get_by_test_id("webhook-secret")).to_have_value(prefs.webhook_secret)
    page.reload()
    expect(page.get_by_label("Email", exact=True)).to_have_value("alice@example.test")
    expect(page.get_by_label("Email me when a job finishes")).to_be_checked()
    expect(page.get_by_label("Email me when a job needs attention")).to_be_checked()
    expect(page.get_by_label("Email me when new jobs are found")).not_to_be_checked()
    expect(webhook).to_have_value("https://93.184.215.14/hooks/dashboard")

    page.get_by_role("button", name="New secret").click()
    expect(page.get_by_test_id("webhook-secret")).not_to_have_value(prefs.webhook_secret)


def test_a_job_muted_on_its_page_is_left_out_until_unmuted(
    alice_page: Page, alice: Any, key: ApiKey
) -> None:
    page = alice_page
    subscribe(alice)
    quiet = settled_job(key, label="Quiet one")
    page.goto(f"/jobs/{quiet.pk}/")
    page.get_by_role("button", name="Mute notifications").click()
    expect(page.locator(".message-success")).to_have_text("Notifications about this job are muted.")
    expect(page.get_by_test_id("muted-note")).to_be_visible()
    expect(page.get_by_role("button", name="Unmute notifications")).to_be_visible()

    settled_job(key, label="Loud one")
    enqueue_due_notifications()
    assert [message.subject for message in mail.outbox] == ["Job finished: Loud one (completed)"]
    page.goto("/notifications/")
    expect(page.get_by_test_id("muted-jobs").get_by_role("link", name="Quiet one")).to_be_visible()
    row = page.get_by_test_id("notification-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Job finished: Loud one (completed)")
    expect(row.get_by_test_id("notification-status")).to_have_text(re.compile(r"^\s*Sent\s*$"))

    page.get_by_test_id("muted-jobs").get_by_role("link", name="Quiet one").click()
    page.get_by_role("button", name="Unmute notifications").click()
    expect(page.get_by_role("button", name="Mute notifications")).to_be_visible()
    quiet.refresh_from_db()
    assert not quiet.notifications_muted
