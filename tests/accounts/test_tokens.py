"""The API tokens page: create a token (shown once, stored as a hash), list and revoke tokens."""

import re
from html import unescape
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from accounts.models import ApiToken, token_digest

TOKENS = "/accounts/tokens/"


def texts(html: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in found]


def main(response: Any) -> str:
    return str(response.content.decode()).split('<main id="main"', 1)[1]


def shown_token(response: Any) -> str | None:
    found = re.search(r'value="(fcd_[^"]+)"', main(response))
    return found.group(1) if found else None


def create(client: Client, name: str = "Pipeline", scope: str = "read") -> Any:
    return client.post(TOKENS, {"name": name, "scope": scope})


def test_the_account_menu_links_the_tokens_page(alice_client: Client) -> None:
    html = alice_client.get("/").content.decode()
    assert f'<a href="{TOKENS}"' in html and "API tokens</a>" in html


def test_the_page_offers_a_name_a_scope_and_create_token(alice_client: Client) -> None:
    html = main(alice_client.get(TOKENS))
    assert "Name" in texts(html, "label")
    assert {"Read only", "Read and write"} <= set(texts(html, "label"))
    assert texts(html, "button") == ["Create token"]


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(
    alice_client: Client, alice: User
) -> None:
    response = create(alice_client, "Warehouse loader", "write")

    token = shown_token(response)
    assert token is not None and token.startswith("fcd_") and len(token) > 40
    row = ApiToken.objects.get(owner=alice)
    assert (row.name, row.scope, row.hint) == ("Warehouse loader", "write", token[-4:])
    assert row.digest == token_digest(token) != token
    # Nowhere in the database in clear, and never again on the page.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert token not in repr(cursor.fetchall())
    assert response["Cache-Control"].startswith("max-age=0")
    again = alice_client.get(TOKENS)
    assert shown_token(again) is None and token not in again.content.decode()
    assert f"fcd_…{token[-4:]}" in main(again)


def test_tokens_are_listed_with_scope_and_last_use(alice_client: Client, alice: User) -> None:
    create(alice_client, "Reader", "read")
    html = main(alice_client.get(TOKENS))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if "Reader" in r)
    assert "Read only" in row and "never" in row and texts(row, "button") == ["Revoke"]


def test_a_name_is_needed_and_used_once(alice_client: Client, alice: User) -> None:
    assert shown_token(create(alice_client, "")) is None
    create(alice_client, "Twice")
    response = create(alice_client, "Twice")
    assert "You have a token with this name already." in main(response)
    assert ApiToken.objects.filter(owner=alice).count() == 1


def test_revoke_deletes_the_token(alice_client: Client, alice: User) -> None:
    create(alice_client)
    row = ApiToken.objects.get(owner=alice)
    response = alice_client.post(f"{TOKENS}{row.pk}/revoke/", follow=True)
    assert "revoked" in main(response)
    assert not ApiToken.objects.filter(pk=row.pk).exists()


def test_nobody_revokes_or_sees_another_users_tokens(
    alice_client: Client, bob_client: Client, alice: User
) -> None:
    create(alice_client, "Alice's secret pipeline")
    row = ApiToken.objects.get(owner=alice)

    assert bob_client.post(f"{TOKENS}{row.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=row.pk).exists()
    assert "Alice's secret pipeline" not in bob_client.get(TOKENS).content.decode()


def test_revoke_needs_a_post(alice_client: Client, alice: User) -> None:
    create(alice_client)
    row = ApiToken.objects.get(owner=alice)
    assert alice_client.get(f"{TOKENS}{row.pk}/revoke/").status_code == 405
    assert ApiToken.objects.filter(pk=row.pk).exists()
