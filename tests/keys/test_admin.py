"""Django admin for staff: API keys appear only masked, and cannot be added there."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_job

UUID7 = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def change_form(key: ApiKey, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": key.name,
        "api_url": key.api_url,
        "api_version": key.api_version,
        "is_default": "on" if key.is_default else "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value != ""}


def test_it_lists_keys_masked(admin_client: Client, key: ApiKey) -> None:
    html = admin_client.get("/admin/keys/apikey/").content.decode()

    assert "fc-…a1b2" in html
    assert ALICE_KEY not in html
    assert ALICE_KEY[3:] not in html


def test_it_shows_a_key_masked_and_never_as_an_input(admin_client: Client, key: ApiKey) -> None:
    html = admin_client.get(f"/admin/keys/apikey/{key.pk}/change/").content.decode()

    assert "fc-…a1b2" in html
    assert ALICE_KEY not in html
    assert ALICE_KEY[3:] not in html
    assert 'name="key"' not in html


def test_it_masks_the_key_on_the_pages_around_it(admin_client: Client, key: ApiKey) -> None:
    job = make_job(key, UUID7)
    pages = [
        f"/admin/keys/apikey/{key.pk}/delete/",
        f"/admin/keys/apikey/{key.pk}/history/",
        f"/admin/jobs/job/{job.pk}/change/",
        "/admin/keys/apikey/?q=Main",
    ]

    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert ALICE_KEY not in response.content.decode(), url


def test_it_cannot_add_a_key(admin_client: Client, key: ApiKey) -> None:
    changelist = admin_client.get("/admin/keys/apikey/").content.decode()

    assert admin_client.get("/admin/keys/apikey/add/").status_code == 403
    assert "/admin/keys/apikey/add/" not in changelist


def test_it_edits_a_key_without_touching_the_secret(admin_client: Client, key: ApiKey) -> None:
    response = admin_client.post(
        f"/admin/keys/apikey/{key.pk}/change/", change_form(key, name="Renamed")
    )

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "Renamed"
    assert key.key == ALICE_KEY
    assert key.key_hint == "fc-…a1b2"


def test_it_leaves_the_choice_of_default_key_to_its_owner(
    admin_client: Client, key: ApiKey
) -> None:
    spare = ApiKey.objects.create(owner=key.owner, name="Spare", key=f"{ALICE_KEY}9")
    html = admin_client.get(f"/admin/keys/apikey/{spare.pk}/change/").content.decode()

    response = admin_client.post(
        f"/admin/keys/apikey/{spare.pk}/change/", change_form(spare, is_default="on")
    )

    assert 'name="is_default"' not in html
    assert response.status_code == 302
    assert list(ApiKey.objects.filter(is_default=True)) == [key]


def test_it_keeps_people_without_staff_status_out(alice_client: Client, key: ApiKey) -> None:
    response = alice_client.get("/admin/keys/apikey/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_lets_staff_see_every_users_keys(
    admin_client: Client, admin_user: User, key: ApiKey, bob_key: ApiKey
) -> None:
    html = admin_client.get("/admin/keys/apikey/").content.decode()

    assert "fc-…a1b2" in html and "fc-…c3d4" in html
