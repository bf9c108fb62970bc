"""Log-in throttling: password guessing is cut off, and a good log-in clears the count."""

from typing import Any

from django.test import Client

from accounts.models import LoginFailure

LOCKED = "Too many failed log-ins"


def attempt(client: Client, password: str, username: str = "alice", ip: str = "10.0.0.1") -> str:
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    return response.content.decode() if response.status_code == 200 else "logged in"


def test_it_locks_an_account_after_five_failures_even_for_the_right_password(
    alice: Any, client: Client
) -> None:
    for _ in range(5):
        assert "Please enter a correct username and password" in attempt(client, "wrong")
    assert LOCKED in attempt(client, "correct horse battery")
    assert "_auth_user_id" not in client.session


def test_other_accounts_are_not_locked(alice: Any, bob: Any, client: Client) -> None:
    for _ in range(5):
        attempt(client, "wrong")
    assert attempt(client, "another good passphrase", username="bob") == "logged in"


def test_one_address_guessing_many_accounts_is_cut_off(alice: Any, client: Client) -> None:
    for number in range(20):
        attempt(client, "wrong", username=f"user{number}")
    assert LOCKED in attempt(client, "correct horse battery")
    assert attempt(client, "correct horse battery", ip="10.0.0.2") == "logged in"


def test_failures_age_out_and_a_good_log_in_clears_them(
    alice: Any, client: Client, settings: Any
) -> None:
    for _ in range(4):
        attempt(client, "wrong")
    assert attempt(client, "correct horse battery") == "logged in"
    assert not LoginFailure.objects.filter(username="alice").exists()
    settings.LOGIN_FAILURE_WINDOW = 0
    client.logout()
    for _ in range(6):
        attempt(client, "wrong")
    assert attempt(client, "correct horse battery") == "logged in"


def test_usernames_are_counted_case_insensitively(alice: Any, client: Client) -> None:
    for name in ["alice", "ALICE", "Alice", "aLiCe", "alicE"]:
        attempt(client, "wrong", username=name)
    assert LOCKED in attempt(client, "correct horse battery")
