"""The Notifications page, the job page's mute button, the unsubscribe page and the sign-up's
address."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from keys.models import ApiKey
from notifications.models import Message, NotificationSettings
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

FORM = {
    "email": "alice@example.test",
    "email_finished": "on",
    "email_attention": "on",
    "webhook_url": "",
    "min_interval": "300",
}


def test_the_page_has_the_fields_of_the_contract(alice_client: Client) -> None:
    page = alice_client.get("/notifications/").content.decode()
    for label in (
        ">Email<",
        ">Email me when a job finishes<",
        ">Email me when a job needs attention<",
        ">Notification webhook URL<",
        ">Save<",
    ):
        assert label in page
    assert 'href="/notifications/"' in alice_client.get("/").content.decode()  # account menu


def test_saving_turns_emails_on_from_now_and_sets_the_accounts_address(
    alice: User, alice_client: Client
) -> None:
    before = timezone.now()
    response = alice_client.post("/notifications/", FORM, follow=True)
    assert "Notification settings saved." in response.content.decode()
    alice.refresh_from_db()
    prefs = NotificationSettings.objects.get(user=alice)
    assert alice.email == "alice@example.test"
    assert prefs.email_finished and prefs.email_attention and not prefs.email_found
    assert prefs.email_finished_since is not None and prefs.email_finished_since >= before
    assert prefs.email_found_since is None and prefs.webhook_since is None
    # Saving again keeps the clocks: only what comes on starts counting anew.
    since = prefs.email_finished_since
    alice_client.post("/notifications/", {**FORM, "email_found": "on"})
    prefs.refresh_from_db()
    assert prefs.email_finished_since == since and prefs.email_found_since is not None
    alice_client.post("/notifications/", {**FORM, "email_finished": ""})
    prefs.refresh_from_db()
    assert not prefs.email_finished and prefs.email_finished_since is None


def test_emails_need_an_address(alice: User, alice_client: Client) -> None:
    response = alice_client.post("/notifications/", {**FORM, "email": ""})
    assert response.status_code == 200
    assert "Give an address for the emails you ticked." in response.content.decode()
    assert not NotificationSettings.objects.filter(user=alice).exists()


def test_a_webhook_url_to_a_private_address_is_refused_and_changes_nothing(
    alice: User, alice_client: Client
) -> None:
    response = alice_client.post(
        "/notifications/", {**FORM, "webhook_url": "http://169.254.169.254/latest/meta-data/"}
    )
    assert "private, loopback or link-local address" in response.content.decode()
    assert not NotificationSettings.objects.filter(user=alice).exists()
    alice.refresh_from_db()
    assert alice.email == ""


def test_a_webhook_url_to_a_private_address_is_accepted_with_the_setting(
    alice: User, alice_client: Client, settings: Any
) -> None:
    settings.NOTIFY_WEBHOOK_ALLOW_PRIVATE = True
    alice_client.post("/notifications/", {**FORM, "webhook_url": "http://10.0.0.7:9000/hook"})
    prefs = NotificationSettings.objects.get(user=alice)
    assert prefs.webhook_url == "http://10.0.0.7:9000/hook" and prefs.webhook_since is not None


def test_a_webhook_url_must_be_http(alice_client: Client) -> None:
    response = alice_client.post("/notifications/", {**FORM, "webhook_url": "ftp://x.test/"})
    assert "Only http:// and https:// URLs can be called" in response.content.decode()


def test_visiting_the_page_saves_nothing(alice: User, alice_client: Client) -> None:
    page = alice_client.get("/notifications/").content.decode()
    assert "Your secret is made when you first save this page." in page
    assert not NotificationSettings.objects.exists()


def test_the_secret_is_shown_and_can_be_replaced(alice: User, alice_client: Client) -> None:
    alice_client.post("/notifications/", FORM)
    page = alice_client.get("/notifications/")
    prefs = NotificationSettings.objects.get(user=alice)
    assert prefs.webhook_secret in page.content.decode()
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    old = prefs.webhook_secret
    alice_client.post("/notifications/secret/")
    prefs.refresh_from_db()
    assert prefs.webhook_secret != old and len(prefs.webhook_secret) >= 40


def test_the_page_refuses_a_query_string(alice_client: Client) -> None:
    assert alice_client.get("/notifications/?x=1").status_code == 400


def test_the_page_shows_only_the_users_own_messages(
    alice: User, bob: User, alice_client: Client
) -> None:
    Message.objects.create(owner=bob, channel="email", kind="finished", subject="Bob's secret job")
    Message.objects.create(owner=alice, channel="email", kind="finished", subject="Alice's job")
    page = alice_client.get("/notifications/").content.decode()
    assert "Alice&#x27;s job" in page and "Bob" not in page


def test_the_job_page_mutes_and_unmutes_the_job(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), label="Noisy")
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Mute notifications" in page
    response = alice_client.post(
        f"/notifications/jobs/{job.pk}/mute/", {"muted": "on"}, follow=True
    )
    job.refresh_from_db()
    assert job.notifications_muted
    assert "Unmute notifications" in response.content.decode()
    assert "Noisy" in alice_client.get("/notifications/").content.decode()  # listed as muted
    alice_client.post(f"/notifications/jobs/{job.pk}/mute/", {"muted": ""})
    job.refresh_from_db()
    assert not job.notifications_muted


def test_another_users_job_cannot_be_muted(bob_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()))
    assert (
        bob_client.post(f"/notifications/jobs/{job.pk}/mute/", {"muted": "on"}).status_code == 404
    )
    job.refresh_from_db()
    assert not job.notifications_muted


def unsubscribe_link(user: User, kind: str = "finished") -> str:
    from notifications import unsubscribe

    message = Message(owner=user, kind=kind)
    return f"/notifications/unsubscribe/{unsubscribe.token(message)}/"


def test_the_unsubscribe_link_asks_first_then_stops_that_kind(alice: User) -> None:
    alice_client = Client()  # not logged in: the link comes from an email
    NotificationSettings.objects.for_user(alice).email_about_jobs()
    link = unsubscribe_link(alice)
    page = alice_client.get(link)
    assert page.status_code == 200 and "Stop the emails about" in page.content.decode()
    assert NotificationSettings.objects.get(user=alice).email_finished  # a GET changes nothing
    done = alice_client.post(link)
    assert "no more emails about jobs that finish" in done.content.decode()
    prefs = NotificationSettings.objects.get(user=alice)
    assert not prefs.email_finished and prefs.email_attention


@pytest.mark.parametrize("token", ["nonsense", "WzEsImZpbmlzaGVkIl0:1xaDF4:forged"])
def test_an_unsubscribe_link_not_made_here_is_a_404(alice: User, token: str) -> None:
    NotificationSettings.objects.for_user(alice).email_about_jobs()
    assert Client().post(f"/notifications/unsubscribe/{token}/").status_code == 404
    assert NotificationSettings.objects.get(user=alice).email_finished


def test_signing_up_with_an_address_turns_on_job_emails(db: Any) -> None:
    client = Client()
    client.post(
        "/accounts/signup/",
        {
            "username": "carol",
            "email": "carol@example.test",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    carol = User.objects.get(username="carol")
    prefs = NotificationSettings.objects.get(user=carol)
    assert carol.email == "carol@example.test"
    assert prefs.email_finished and prefs.email_attention
    assert prefs.email_finished_since is not None
    assert prefs.email_finished_since > timezone.now() - timedelta(minutes=5)


def test_signing_up_without_an_address_turns_nothing_on(db: Any) -> None:
    Client().post(
        "/accounts/signup/",
        {
            "username": "dave",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    dave = User.objects.get(username="dave")
    assert not NotificationSettings.objects.filter(user=dave).exists()
