"""The API keys page: add (checked against Firecrawl), rename, delete, default, and masking."""

import logging
import re
import socket
import threading
import uuid
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.signals import pre_save
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.encryption import decrypt
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_job

UUID7 = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    # Alice and Bob are created with passwords; PBKDF2 would cost about a second per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def any_url(settings: Any) -> None:
    settings.FIRECRAWL_API_URLS = ["*"]


def new_key(sim: FakeFirecrawl, credits: int | None = 1000) -> str:
    """A key the simulator knows, on a team of its own so credit counts do not mix."""
    key = f"fc-{uuid.uuid4().hex}"
    sim.add_key(key, team=f"team-{key[-12:]}", credits=credits)
    return key


def add_form(sim: FakeFirecrawl, key: str, **overrides: str) -> dict[str, str]:
    return {"name": "Work", "key": key, "api_url": sim.url, "api_version": "v1", **overrides}


def texts(html: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in found]


def page(response: Any) -> str:
    return unescape(response.content.decode())


def raw_key_column() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM jobs_apikey ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# Adding a key


def test_it_shows_the_add_key_form(alice_client: Client) -> None:
    html = page(alice_client.get("/keys/"))

    assert texts(html, "label") == ["Name", "API key", "API URL", "API version"]
    assert "Add key" in texts(html, "button")
    assert '<a href="/keys/" aria-current="page">API keys</a>' in html
    assert "No keys yet." in html


def test_it_adds_a_key_firecrawl_accepts(
    alice_client: Client, alice: User, sim: FakeFirecrawl, any_url: None
) -> None:
    key = new_key(sim, credits=1000)

    response = alice_client.post("/keys/", add_form(sim, key), follow=True)

    html = page(response)
    assert response.redirect_chain == [("/keys/", 302)]
    assert f"Key “Work” added (fc-…{key[-4:]})." in html
    assert "1,000 remaining" in html
    assert key not in html
    saved = ApiKey.objects.get(owner=alice)
    assert saved.key == key
    assert saved.is_default
    assert saved.remaining_credits == 1000
    assert saved.credits_checked_at is not None


def test_it_keeps_the_key_encrypted_in_the_database(
    alice_client: Client, sim: FakeFirecrawl, any_url: None
) -> None:
    key = new_key(sim)

    alice_client.post("/keys/", add_form(sim, key))

    [stored] = raw_key_column()
    assert key not in stored
    assert key[3:] not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token: version byte 0x80, then a timestamp
    assert decrypt(stored) == key


def test_it_refuses_a_key_firecrawl_rejects(
    alice_client: Client, sim: FakeFirecrawl, any_url: None
) -> None:
    unknown = f"fc-{uuid.uuid4().hex}"

    response = alice_client.post("/keys/", add_form(sim, unknown))

    assert response.status_code == 200
    assert "Firecrawl rejected this key" in page(response)
    assert unknown not in page(response)
    assert not ApiKey.objects.exists()


def test_it_refuses_a_key_when_firecrawl_is_unreachable(
    alice_client: Client, sim: FakeFirecrawl, any_url: None, settings: Any
) -> None:
    key = new_key(sim)
    url = f"http://127.0.0.1:{closed_port()}"

    response = alice_client.post("/keys/", add_form(sim, key, api_url=url))

    assert f"Could not reach Firecrawl at {url}" in page(response)
    assert not ApiKey.objects.exists()


def test_it_saves_a_key_when_the_server_has_no_credits_to_report(
    alice_client: Client, alice: User, sim: FakeFirecrawl, any_url: None
) -> None:
    selfhosted = new_key(sim, credits=None)

    response = alice_client.post("/keys/", add_form(sim, selfhosted), follow=True)

    html = page(response)
    assert "Firecrawl did not report credits for this key; saved anyway." in html
    assert "unknown" in texts(html, "td")
    assert ApiKey.objects.get(owner=alice).remaining_credits is None


def test_it_only_accepts_the_configured_api_urls(
    alice_client: Client, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_API_URLS = ["https://api.firecrawl.dev"]
    key = new_key(sim)
    requests_before = len(sim.requests)

    response = alice_client.post("/keys/", add_form(sim, key))

    assert "This server only allows these API URLs: https://api.firecrawl.dev" in page(response)
    assert not ApiKey.objects.exists()
    # The URL is refused before anything is sent to it.
    assert len(sim.requests) == requests_before


def test_it_accepts_a_listed_api_url_with_a_trailing_slash(
    alice_client: Client, alice: User, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_API_URLS = [sim.url]
    key = new_key(sim)

    alice_client.post("/keys/", add_form(sim, key, api_url=sim.url + "/"))

    assert ApiKey.objects.get(owner=alice).api_url == sim.url


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/", "javascript:alert(1)", "file:///etc/passwd", "gopher://127.0.0.1/"]
)
def test_it_refuses_anything_but_http_even_when_any_url_is_allowed(
    alice_client: Client, sim: FakeFirecrawl, any_url: None, url: str
) -> None:
    response = alice_client.post("/keys/", add_form(sim, new_key(sim), api_url=url))

    assert response.status_code == 200
    assert "field-errors" in page(response)
    assert not ApiKey.objects.exists()


def test_it_refuses_a_second_key_with_the_same_name(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = alice_client.post("/keys/", add_form(sim, new_key(sim), name="Main"))

    assert "You already have a key with this name." in page(response)
    assert ApiKey.objects.count() == 1


def test_it_makes_only_the_first_key_the_default(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    alice_client.post("/keys/", add_form(sim, new_key(sim)))

    assert list(ApiKey.objects.values_list("name", "is_default")) == [
        ("Main", True),
        ("Work", False),
    ]


# ---------------------------------------------------------------------------------------------
# The plain key is never shown again


def test_it_never_shows_or_logs_the_plain_key(
    alice_client: Client,
    sim: FakeFirecrawl,
    any_url: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = new_key(sim)
    alice_client.post("/keys/", add_form(sim, key))
    saved = ApiKey.objects.get()
    job = make_job(saved, UUID7, label="A job")

    pages = {
        url: alice_client.get(url)
        for url in [
            "/keys/",
            f"/keys/{saved.pk}/rename/",
            f"/keys/{saved.pk}/delete/",
            f"/jobs/{job.pk}/",
            "/",
        ]
    }
    # A rejected rename re-renders its form.
    pages["rename refused"] = alice_client.post(f"/keys/{saved.pk}/rename/", {"name": ""})

    for url, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, url
        assert key not in html and key[3:] not in html, url
        # Every page that names the key shows it masked (the dashboard, with one key, does not).
        if url != "/":
            assert f"fc-…{key[-4:]}" in unescape(html), url
    assert caplog.records
    assert key not in caplog.text and key[3:] not in caplog.text


def test_it_never_logs_a_key_it_refuses_or_cannot_check(
    alice_client: Client,
    sim: FakeFirecrawl,
    any_url: None,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    unknown, unreachable, selfhosted = (
        f"fc-{uuid.uuid4().hex}",
        new_key(sim),
        new_key(sim, credits=None),
    )

    alice_client.post("/keys/", add_form(sim, unknown))
    alice_client.post(
        "/keys/", add_form(sim, unreachable, api_url=f"http://127.0.0.1:{closed_port()}")
    )
    alice_client.post("/keys/", add_form(sim, selfhosted))

    assert "credit usage unavailable (500)" in caplog.text
    for key in [unknown, unreachable, selfhosted]:
        assert key[3:] not in caplog.text


def test_it_does_not_echo_a_refused_key_back_into_the_form(
    alice_client: Client, sim: FakeFirecrawl, any_url: None
) -> None:
    key = new_key(sim)

    response = alice_client.post("/keys/", add_form(sim, key, name="x" * 101))

    assert "Ensure this value has at most 100 characters" in page(response)
    assert key not in page(response)


def test_it_lists_keys_in_a_fixed_number_of_queries(
    alice_client: Client, key: ApiKey, django_assert_num_queries: Any
) -> None:
    for n in range(5):
        ApiKey.objects.create(owner=key.owner, name=f"Spare {n}", key=f"{ALICE_KEY}{n}")

    # session, user, keys
    with django_assert_num_queries(3):
        response = alice_client.get("/keys/")

    hints = [text for text in texts(page(response), "code") if text.startswith("fc-…")]
    assert len(hints) == 6


# ---------------------------------------------------------------------------------------------
# Rename, default, delete


def test_it_renames_a_key(alice_client: Client, key: ApiKey) -> None:
    html = page(alice_client.get(f"/keys/{key.pk}/rename/"))
    response = alice_client.post(f"/keys/{key.pk}/rename/", {"name": " Personal "})

    assert texts(html, "label") == ["Name"]
    assert response["Location"] == "/keys/"
    key.refresh_from_db()
    assert key.name == "Personal"
    assert key.key == ALICE_KEY


def test_it_renames_without_overwriting_what_workers_write(
    alice_client: Client, key: ApiKey
) -> None:
    with CaptureQueriesContext(connection) as queries:
        alice_client.post(f"/keys/{key.pk}/rename/", {"name": "Personal"})

    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "jobs_apikey"')]
    assert '"name"' in update
    for column in ["budget_used", "last_error", "last_used_at", "remaining_credits", '"key"']:
        assert column not in update


def test_it_refuses_to_rename_onto_another_keys_name(alice_client: Client, key: ApiKey) -> None:
    spare = ApiKey.objects.create(owner=key.owner, name="Spare", key=f"{ALICE_KEY}9")

    response = alice_client.post(f"/keys/{spare.pk}/rename/", {"name": "Main"})

    assert "You already have a key with this name." in page(response)
    spare.refresh_from_db()
    assert spare.name == "Spare"


def test_it_makes_another_key_the_default(alice_client: Client, key: ApiKey) -> None:
    spare = ApiKey.objects.create(owner=key.owner, name="Spare", key=f"{ALICE_KEY}9")

    response = alice_client.post(f"/keys/{spare.pk}/default/", follow=True)

    assert "“Spare” is now your default key." in page(response)
    assert list(ApiKey.objects.filter(is_default=True)) == [spare]


def test_it_asks_before_deleting_a_key(alice_client: Client, key: ApiKey) -> None:
    make_job(key, UUID7)

    html = page(alice_client.get(f"/keys/{key.pk}/delete/"))

    assert "Delete key “Main”?" in html
    assert "1 job read with it will stop syncing" in html
    assert texts(html, "button")[-1] == "Delete key"
    assert ApiKey.objects.filter(pk=key.pk).exists()


def test_it_deletes_a_key_and_keeps_its_jobs(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, UUID7)

    response = alice_client.post(f"/keys/{key.pk}/delete/", follow=True)

    assert "Key “Main” deleted. Jobs read with it stay browsable." in page(response)
    assert not ApiKey.objects.exists()
    assert Job.objects.get(pk=job.pk).api_key is None


def test_it_promotes_another_key_when_the_default_is_deleted(
    alice_client: Client, key: ApiKey
) -> None:
    for name in ["Spare", "Backup"]:
        ApiKey.objects.create(owner=key.owner, name=name, key=f"{ALICE_KEY}{name}")

    alice_client.post(f"/keys/{key.pk}/delete/")

    assert list(ApiKey.objects.values_list("name", "is_default")) == [
        ("Backup", True),
        ("Spare", False),
    ]


# ---------------------------------------------------------------------------------------------
# Each user sees only their own keys


def test_it_lists_only_bobs_own_keys(bob_client: Client, key: ApiKey, bob_key: ApiKey) -> None:
    html = page(bob_client.get("/keys/"))

    assert "Bob's" in html
    assert key.key_hint not in html
    assert "Main" not in texts(html, "td")


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", "rename"),
        ("post", "rename"),
        ("get", "delete"),
        ("post", "delete"),
        ("post", "default"),
    ],
)
def test_it_answers_404_to_bob_for_alices_key(
    bob_client: Client, key: ApiKey, bob_key: ApiKey, method: str, action: str
) -> None:
    response = getattr(bob_client, method)(
        f"/keys/{key.pk}/{action}/", {"name": "Stolen"} if method == "post" else None
    )

    assert response.status_code == 404
    key.refresh_from_db()
    assert (key.name, key.is_default, key.key) == ("Main", True, ALICE_KEY)
    bob_key.refresh_from_db()
    assert bob_key.is_default


def test_it_refuses_a_get_to_make_default_whoever_owns_the_key(
    alice_client: Client, bob_client: Client, key: ApiKey
) -> None:
    # POST only: a 405 for everyone, so it tells Bob nothing about Alice's key ids.
    assert alice_client.get(f"/keys/{key.pk}/default/").status_code == 405
    assert bob_client.get(f"/keys/{key.pk}/default/").status_code == 405


def test_a_key_with_characters_no_header_can_carry_is_refused_without_an_error_page(
    alice_client: Client, sim: FakeFirecrawl
) -> None:
    response = alice_client.post("/keys/", add_form(sim, "fc-ключ0000000000000000000000"))
    assert response.status_code == 200
    assert "letters, digits and punctuation only" in page(response)
    assert not ApiKey.objects.exists()


def test_an_unreachable_server_keeps_the_key_and_offers_to_save_it_unchecked(
    alice_client: Client, sim: FakeFirecrawl
) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{spare.getsockname()[1]}"
    form = add_form(sim, ALICE_KEY, api_url=dead)
    response = alice_client.post("/keys/", form)
    html = page(response)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    # One sentence, not the same one twice.
    assert html.count("Could not reach Firecrawl at") == 1
    assert "save the key without checking it" in html
    assert f'value="{ALICE_KEY}"' in html  # kept for the person who just pasted it
    assert "Save without checking" in html
    assert not ApiKey.objects.exists()

    saved = alice_client.post("/keys/", {**form, "save_unchecked": "1"}, follow=True)
    key = ApiKey.objects.get()
    assert key.api_url == dead and key.remaining_credits is None
    assert "Saved without checking" in page(saved)


def test_a_refused_key_is_not_echoed_back_into_the_form(
    alice_client: Client, sim: FakeFirecrawl
) -> None:
    response = alice_client.post("/keys/", add_form(sim, "fc-0f9e8d7c6b5a49382716a5b4c3d2e1f0"))
    assert "Firecrawl rejected this key (401)." in page(response)
    assert "0f9e8d7c6b5a49382716a5b4c3d2e1f0" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_key_submitted_eight_times_at_once_is_added_once_and_never_errors(
    alice: User, sim: FakeFirecrawl
) -> None:
    import threading

    key = new_key(sim)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def submit() -> None:
        client = Client()
        client.force_login(alice)
        start.wait()
        response = client.post("/keys/", add_form(sim, key))
        with lock:
            statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 8 and 500 not in statuses, statuses
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().is_default


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_first_keys_saved_at_the_same_moment_are_both_added_one_the_default(
    alice: User, sim: FakeFirecrawl
) -> None:
    if connection.vendor != "postgresql":
        # SQLite takes its write lock when the saving transaction begins (BEGIN IMMEDIATE):
        # there two saves never overlap, so this race cannot happen.
        pytest.skip("needs PostgreSQL, where two transactions can both see no key yet")
    keys = [new_key(sim), new_key(sim)]
    both_checked = threading.Barrier(2, timeout=30)
    met: set[int] = set()
    statuses: list[int] = []

    def after_the_check_before_the_insert(instance: ApiKey, **kwargs: Any) -> None:
        # Each request has looked whether Alice has a key (none yet): both meet here, then
        # both insert, each as the default.
        if threading.get_ident() not in met:
            met.add(threading.get_ident())
            both_checked.wait()

    def submit(name: str, key: str) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(alice)
        response = client.post("/keys/", add_form(sim, key, name=name))
        statuses.append(response.status_code)
        connection.close()

    pre_save.connect(after_the_check_before_the_insert, sender=ApiKey)
    try:
        threads = [
            threading.Thread(target=submit, args=(f"Key {i}", k)) for i, k in enumerate(keys)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        pre_save.disconnect(after_the_check_before_the_insert, sender=ApiKey)

    assert sorted(statuses) == [302, 302]
    assert ApiKey.objects.count() == 2
    assert ApiKey.objects.filter(is_default=True).count() == 1
