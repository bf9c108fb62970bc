"""Browser login: log in, log out, sign up (open or closed) and password change."""

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

LOGIN = "/accounts/login/"
SIGNUP = "/accounts/signup/"
PASSPHRASE = "a long new passphrase"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    # PBKDF2's deliberate slowness costs about a second per login here; what is tested is the flow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def texts(html: str, tag: str) -> list[str]:
    """The visible text of every <tag> element, as a user reads it."""
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in found]


def page(response: Any) -> str:
    return str(response.content.decode())


def main_content(response: Any) -> str:
    """The page without its header, so the nav's own links do not count."""
    return page(response).split('<main id="main"', 1)[1]


def form_of(response: Any) -> str:
    """The page's main content, its one-time tokens left out."""
    return re.sub(r'value="[^"]*"', "", main_content(response))


def sign_up(client: Client, username: str, confirmation: str = PASSPHRASE, **kwargs: Any) -> Any:
    """Post the sign-up form, typing PASSPHRASE and then `confirmation`."""
    data = {"username": username, "password1": PASSPHRASE, "password2": confirmation}
    return client.post(SIGNUP, data, **kwargs)


def test_it_shows_the_login_form(client: Client, db: Any) -> None:
    html = page(client.get(LOGIN))

    assert texts(html, "label") == ["Username", "Password"]
    assert texts(html, "button") == ["Log in"]
    assert 'href="/accounts/signup/"' in html


def test_it_logs_alice_in_and_follows_next(client: Client, alice: User) -> None:
    response = client.post(
        LOGIN, {"username": "alice", "password": "correct horse battery", "next": "/keys/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/keys/"
    assert client.get("/keys/").status_code == 200


def test_it_sends_alice_to_her_jobs_without_next(client: Client, alice: User) -> None:
    response = client.post(LOGIN, {"username": "alice", "password": "correct horse battery"})

    assert response["Location"] == "/"
    assert "Logged in as <strong>alice</strong>" in page(client.get("/"))  # the account menu


def test_it_never_follows_next_to_another_site(client: Client, alice: User) -> None:
    response = client.post(
        LOGIN,
        {
            "username": "alice",
            "password": "correct horse battery",
            "next": "https://evil.example/phish",
        },
    )

    assert response["Location"] == "/"


def test_it_refuses_a_wrong_password(client: Client, alice: User) -> None:
    response = client.post(LOGIN, {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in page(response)
    assert client.get("/keys/").status_code == 302


def test_it_logs_alice_out(alice_client: Client) -> None:
    response = alice_client.post("/accounts/logout/")

    assert response["Location"] == LOGIN
    assert alice_client.get("/keys/")["Location"] == f"{LOGIN}?next=/keys/"


def test_it_says_logged_out_on_the_log_in_page(alice_client: Client) -> None:
    response = alice_client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [(LOGIN, 302)]
    assert texts(main_content(response), "li") == ["Logged out."]
    assert texts(main_content(response), "h1") == ["Log in"]
    # Said once: the next page does not repeat it.
    assert "Logged out." not in page(alice_client.get(LOGIN))


@pytest.mark.parametrize(
    "url",
    ["/", "/keys/", "/jobs/1/", "/keys/1/rename/", "/keys/1/delete/", "/accounts/password/"],
)
def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, db: Any, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={url}"


def test_it_shows_the_sign_up_form(client: Client, db: Any) -> None:
    html = page(client.get(SIGNUP))

    assert texts(html, "label") == ["Username", "Email", "Password", "Password confirmation"]
    assert texts(html, "button") == ["Sign up"]


def test_it_signs_carol_up_and_logs_her_in(client: Client, db: Any) -> None:
    response = sign_up(client, "carol", follow=True)

    assert response.redirect_chain == [("/keys/", 302)]
    assert "Welcome, carol. Add a Firecrawl API key to begin." in page(response)
    assert User.objects.get(username="carol").check_password(PASSPHRASE)


def test_it_refuses_mismatched_passwords(client: Client, db: Any) -> None:
    response = sign_up(client, "carol", confirmation="another one")

    assert response.status_code == 200
    assert "The two password fields didn\u2019t match." in page(response)
    assert not User.objects.filter(username="carol").exists()


def test_it_refuses_a_taken_username(client: Client, alice: User) -> None:
    response = sign_up(client, "alice")

    assert "A user with that username already exists." in page(response)
    assert User.objects.count() == 1


def test_probing_sign_up_for_usernames_costs_what_guessing_passwords_does(
    client: Client, alice: User, settings: Any
) -> None:
    # Each answer "taken" (case variants too) counts as a failed log-in of the address...
    for name in ["alice", "ALICE", "Alice"] * 7:
        sign_up(client, name)
    # ...so once the address is over its limit, sign-up answers the same for a taken name and a
    # free one, without looking either up: nothing more is learned from here.
    taken, free = (form_of(sign_up(client, name)) for name in ["aLiCe", "nobody-yet"])
    assert "Too many failed attempts from your address" in taken
    assert "already exists" not in taken
    assert taken == free
    assert not User.objects.filter(username="nobody-yet").exists()
    # And log-in from that address is cut off too: one budget of failures.
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "correct horse battery"}
    )
    assert "Too many failed log-ins" in page(response)


def test_it_sends_a_logged_in_user_away_from_sign_up(alice_client: Client) -> None:
    assert alice_client.get(SIGNUP)["Location"] == "/"


def test_it_closes_sign_up_when_registration_is_closed(
    client: Client, db: Any, settings: Any
) -> None:
    settings.REGISTRATION_OPEN = False

    get = client.get(SIGNUP)
    post = sign_up(client, "carol")
    login_page = page(client.get(LOGIN))

    assert get.status_code == 404
    assert post.status_code == 404
    assert not User.objects.filter(username="carol").exists()
    assert "/accounts/signup/" not in login_page
    assert "Sign up" not in login_page


def test_it_changes_alices_password(alice_client: Client, alice: User) -> None:
    form = page(alice_client.get("/accounts/password/"))
    response = alice_client.post(
        "/accounts/password/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
        follow=True,
    )

    assert texts(form, "label") == ["Old password", "New password", "New password confirmation"]
    assert "Your password was changed." in main_content(response)
    assert Client().login(username="alice", password="a brand new passphrase")
    assert not Client().login(username="alice", password="correct horse battery")
    # The session survives its own password change.
    assert alice_client.get("/keys/").status_code == 200


def test_it_refuses_a_password_change_with_the_wrong_old_password(
    alice_client: Client, alice: User
) -> None:
    response = alice_client.post(
        "/accounts/password/",
        {
            "old_password": "not it",
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )

    assert "Your old password was entered incorrectly." in page(response)
    alice.refresh_from_db()
    assert alice.check_password("correct horse battery")
