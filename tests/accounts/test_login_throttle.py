"""Log-in throttling: password guessing is cut off, a guesser never locks out the people who share
its address, and a good log-in clears the count."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from accounts import throttle
from accounts.models import LoginFailure

LOCKED = "Too many failed log-ins"
PROXY = "10.0.0.1"  # the reverse proxy: every request through it comes from this address
ATTACKER = "203.0.113.7"


@pytest.fixture
def erin(db: Any) -> User:
    return User.objects.create_user("erin", password="erins own passphrase")


def attempt(
    client: Client,
    password: str,
    username: str = "alice",
    ip: str = "10.0.0.1",
    forwarded_for: str | None = None,
) -> str:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    response = client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        headers=headers,
    )
    return response.content.decode() if response.status_code == 200 else "logged in"


def log_out(browser: Client) -> None:
    """Log out as a person does (the browser keeps its other cookies)."""
    browser.post("/accounts/logout/")
    assert "_auth_user_id" not in browser.session


def random_username() -> str:
    return f"guess-{uuid.uuid4().hex[:8]}"


def age_all_failures(seconds: int) -> None:
    for failure in LoginFailure.objects.all():
        failure.at -= timedelta(seconds=seconds)
        failure.save()


def test_it_locks_an_account_after_five_failures_even_for_the_right_password(
    alice: Any, client: Client
) -> None:
    for _ in range(5):
        assert "Please enter a correct username and password" in attempt(client, "wrong")
    assert LOCKED in attempt(client, "correct horse battery")
    assert "_auth_user_id" not in client.session


def test_an_account_under_attack_stays_locked_from_every_address_until_the_window_passes(
    alice: Any, client: Client, settings: Any
) -> None:
    for number in range(5):
        attempt(client, "wrong", ip=f"198.51.100.{number}")

    assert LOCKED in attempt(client, "correct horse battery", ip="192.0.2.99")
    age_all_failures(settings.LOGIN_FAILURE_WINDOW - 60)
    assert LOCKED in attempt(client, "correct horse battery", ip="192.0.2.99")
    age_all_failures(61)
    assert attempt(client, "correct horse battery", ip="192.0.2.99") == "logged in"


def test_other_accounts_are_not_locked(alice: Any, bob: Any, client: Client) -> None:
    for _ in range(5):
        attempt(client, "wrong")
    assert attempt(client, "another good passphrase", username="bob") == "logged in"


def test_a_guesser_sharing_erins_address_does_not_lock_her_usual_browser_out(
    erin: User, client: Client
) -> None:
    erins_browser = Client()
    assert attempt(erins_browser, "erins own passphrase", username="erin", ip=PROXY) == "logged in"
    log_out(erins_browser)
    # The review's case: failures with random usernames from one address (a proxy's).
    for _ in range(25):
        attempt(client, "wrong", username=random_username(), ip=PROXY)

    assert attempt(erins_browser, "erins own passphrase", username="erin", ip=PROXY) == "logged in"


def test_an_address_spraying_many_accounts_is_cut_off_from_every_account(
    alice: Any, erin: User, client: Client
) -> None:
    # Password spraying: one guess at each of many accounts, none of them locked on its own.
    for _ in range(20):
        assert LOCKED not in attempt(client, "wrong", username=random_username())
    # From this address nothing more is even checked, at any account...
    assert LOCKED in attempt(client, "correct horse battery")
    assert LOCKED in attempt(Client(), "erins own passphrase", username="erin")
    assert LOCKED in attempt(Client(), "wrong", username=random_username())
    # ...while everyone elsewhere logs in.
    assert attempt(Client(), "correct horse battery", ip="10.0.0.2") == "logged in"
    assert attempt(Client(), "erins own passphrase", username="erin", ip="10.0.0.3") == "logged in"


def test_an_owner_logs_in_from_her_usual_browser_while_her_account_is_locked_for_others(
    alice: Any,
) -> None:
    alices_browser = Client()
    assert attempt(alices_browser, "correct horse battery", ip="198.51.100.1") == "logged in"
    log_out(alices_browser)
    # Someone keeps her account locked, from address after address.
    for number in range(6):
        attempt(Client(), "wrong", ip=f"203.0.113.{number}")
    assert LOCKED in attempt(Client(), "correct horse battery", ip="198.51.100.1")

    assert attempt(alices_browser, "correct horse battery", ip="198.51.100.1") == "logged in"


def test_a_known_browser_has_its_own_limit_of_guesses(alice: Any) -> None:
    # A stolen device cookie is worth five guesses, not a way around the throttle.
    browser = Client()
    assert attempt(browser, "correct horse battery") == "logged in"
    log_out(browser)
    for _ in range(5):
        assert LOCKED not in attempt(browser, "wrong", ip="203.0.113.9")
    assert LOCKED in attempt(browser, "correct horse battery", ip="203.0.113.9")
    # Its failures are its own: the account is not locked for anyone else.
    assert attempt(Client(), "correct horse battery", ip="198.51.100.1") == "logged in"


def test_a_device_cookie_of_another_account_or_forged_counts_for_nothing(
    alice: Any, erin: User
) -> None:
    browser = Client()
    assert attempt(browser, "erins own passphrase", username="erin") == "logged in"
    log_out(browser)
    for number in range(5):
        attempt(Client(), "wrong", ip=f"203.0.113.{number}")
    # Erin's cookie says nothing about alice's account, and a cookie made up says nothing.
    assert LOCKED in attempt(browser, "correct horse battery")
    forged = Client()
    forged.cookies[throttle.DEVICE_COOKIE] = browser.cookies[throttle.DEVICE_COOKIE].value + "x"
    assert LOCKED in attempt(forged, "correct horse battery")


def test_behind_a_proxy_the_real_client_address_counts_and_a_spoofed_one_changes_nothing(
    alice: Any, erin: User, client: Client, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HOPS = 1
    # The attacker writes a new X-Forwarded-For each time; the proxy appends the real address.
    for number in range(20):
        spoofed = f"192.0.2.{number}, {ATTACKER}"
        attempt(client, "wrong", username=random_username(), ip=PROXY, forwarded_for=spoofed)
    attempt(client, "wrong", ip=PROXY, forwarded_for=f"192.0.2.250, {ATTACKER}")

    assert set(LoginFailure.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    # The attacker's own address is cut off from alice, whatever it claims to be...
    spoofed = f"192.0.2.251, {ATTACKER}"
    assert LOCKED in attempt(client, "correct horse battery", ip=PROXY, forwarded_for=spoofed)
    # ...while alice and erin, through the same proxy from their own addresses, log in.
    alice_says = attempt(Client(), "correct horse battery", ip=PROXY, forwarded_for="198.51.100.1")
    assert alice_says == "logged in"
    erin_says = attempt(
        Client(), "erins own passphrase", "erin", ip=PROXY, forwarded_for="198.51.100.2"
    )
    assert erin_says == "logged in"


@pytest.mark.parametrize(
    ("hops", "forwarded_for", "expected"),
    [
        (0, None, "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # nobody is trusted to say otherwise
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),  # the client's own claim is ignored
        (2, "192.0.2.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, "2001:db8::7", "2001:db8::7"),
        (2, "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: not to be trusted
        (1, None, "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_it_finds_the_client_address(
    hops: int, forwarded_for: str | None, expected: str, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HOPS = hops
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.1", headers=headers)

    assert throttle.client_ip(request) == expected


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


def test_clearing_an_accounts_failures_lifts_its_lock(alice: Any, client: Client) -> None:
    # Locked both ways: five failures, and from an address with twenty more.
    for _ in range(20):
        attempt(client, "wrong", username=random_username())
    for _ in range(5):
        attempt(client, "wrong")
    assert LOCKED in attempt(client, "correct horse battery")

    throttle.clear_failures("Alice")  # what `manage.py demo` calls for its user

    assert attempt(Client(), "correct horse battery", ip="10.0.0.2") == "logged in"
    assert LoginFailure.objects.count() == 20  # the other accounts' failures stay
    # The address that made them stays cut off.
    assert LOCKED in attempt(client, "correct horse battery")


def test_usernames_are_counted_case_insensitively(alice: Any, client: Client) -> None:
    for name in ["alice", "ALICE", "Alice", "aLiCe", "alicE"]:
        attempt(client, "wrong", username=name)
    assert LOCKED in attempt(client, "correct horse battery")


def admin_attempt(client: Client, password: str, ip: str = "10.0.0.1") -> str:
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "root", "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )
    return response.content.decode() if response.status_code == 200 else "logged in"


def test_the_admin_log_in_is_throttled_and_records_its_failures(db: Any, client: Client) -> None:
    User.objects.create_superuser("root", password="root password 123")
    for _ in range(30):
        last = admin_attempt(client, "wrong")

    assert LOCKED in last
    assert LOCKED in admin_attempt(client, "root password 123")
    assert "_auth_user_id" not in client.session
    # The five that counted; refused attempts are not recorded (they would extend the lock).
    assert LoginFailure.objects.filter(username="root").count() == 5


def test_failures_on_either_log_in_page_count_together(alice: Any, client: Client) -> None:
    for _ in range(3):
        admin_attempt(client, "wrong")
    # alice is not staff: the admin refuses her, but her right password is not a failure.
    alice_on_admin = client.post(
        "/admin/login/", {"username": "alice", "password": "correct horse battery"}
    )
    assert "_auth_user_id" not in client.session
    assert alice_on_admin.status_code == 200
    assert not LoginFailure.objects.filter(username="alice").exists()
    User.objects.create_superuser("root", password="root password 123")
    for _ in range(2):
        attempt(client, "wrong", username="root")

    assert LOCKED in admin_attempt(client, "root password 123")


def test_staff_see_recent_failures_in_the_admin(admin_client: Client, client: Client) -> None:
    attempt(client, "wrong", username="mallory", ip="203.0.113.7")

    html = admin_client.get("/admin/accounts/loginfailure/").content.decode()

    assert "mallory" in html and "203.0.113.7" in html
    assert admin_client.get("/admin/accounts/loginfailure/add/").status_code == 403
