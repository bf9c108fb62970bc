"""Log-in throttling, after OWASP's "device cookies": password guessing is cut off per account and
per address, and neither limit ever refuses a browser that logged in to the account before.

- An address with LOGIN_ADDRESS_FAILURE_LIMIT failures in the window (at any accounts: password
  spraying, or sign-ups probing for usernames) is refused for every account.
- An account with LOGIN_FAILURE_LIMIT failures in the window is refused, from anywhere.
- A browser that logged in to the account before carries a signed "known device" cookie for it;
  its attempts count only against that cookie (LOGIN_FAILURE_LIMIT of them), so whoever keeps an
  account or an address locked never locks out its owner's usual browser.

Counts live in the database, so every web process enforces the same limits.
"""

import ipaddress
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.models import LoginFailure

DEVICE_COOKIE = "known_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600
# One cookie holds the known devices of a few accounts (people who share a browser).
DEVICE_ACCOUNTS = 5
_SALT = "accounts.throttle.known_device"
# What a sign-up of a taken username is recorded as: it counts for the address only (no
# username can hold parentheses).
SIGN_UP = "(sign-up)"


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest | None) -> str | None:
    """The address of the client, as seen by the outermost of TRUSTED_PROXY_HOPS proxies.

    Each trusted proxy appends the address it was connected from to X-Forwarded-For, so the
    client's is that many entries from the right; anything left of it is whatever the client
    sent, and is never read. Without trusted proxies (the default), REMOTE_ADDR.
    """
    if request is None:
        return None
    remote: str = request.META.get("REMOTE_ADDR") or ""
    if hops := settings.TRUSTED_PROXY_HOPS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        # Fewer entries than proxies: not every proxy added one; only REMOTE_ADDR is certain.
        if len(forwarded) >= hops and _is_ip(candidate := forwarded[-hops].strip()):
            return candidate
    return remote if _is_ip(remote) else None


# Known devices ----------------------------------------------------------------------------------


def _devices(request: HttpRequest | None) -> dict[str, str]:
    """The accounts this browser logged in to before: username (lower case) -> device id."""
    if request is None or DEVICE_COOKIE not in request.COOKIES:
        return {}
    try:
        value = signing.loads(
            request.COOKIES[DEVICE_COOKIE], salt=_SALT, max_age=DEVICE_COOKIE_MAX_AGE
        )
    except signing.BadSignature:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(name): str(device) for name, device in value.items()}


def known_device(request: HttpRequest | None, username: str) -> str:
    """This browser's device id for the account, if it logged in to it before ("" if not)."""
    return _devices(request).get(username.lower(), "")


def remember_device(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a good log-in: the browser is a known device of the account from now on."""
    devices = _devices(request)
    name = username.lower()
    device = devices.pop(name, "") or secrets.token_urlsafe(16)
    devices = dict(list(devices.items())[-(DEVICE_ACCOUNTS - 1) :])
    devices[name] = device
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(devices, salt=_SALT),
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# Counting failures ------------------------------------------------------------------------------


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def _seconds_until_under(times: list[datetime], limit: int) -> int:
    """`times`: the newest `limit` failures, newest first."""
    if len(times) < limit:
        return 0
    return max(1, int((times[-1] + _window() - timezone.now()).total_seconds()))


def seconds_address_locked(ip: str | None) -> int:
    """0 if this address may still try, else the seconds until enough of its failures age out."""
    if not ip:
        return 0
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - _window(), device="")
    times = list(recent.filter(ip_address=ip).order_by("-at").values_list("at", flat=True)[:limit])
    return _seconds_until_under(times, limit)


def seconds_locked(username: str, ip: str | None, device: str = "") -> int:
    """0 if a log-in may be attempted, else the seconds until enough failures age out. With a
    known `device` of the account, only that device's own failures count."""
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - _window()).order_by("-at")
    limit = settings.LOGIN_FAILURE_LIMIT
    if device:
        mine = recent.filter(username=username.lower(), device=device)
        return _seconds_until_under(list(mine.values_list("at", flat=True)[:limit]), limit)
    account = recent.filter(username=username.lower(), device="")
    if wait := _seconds_until_under(list(account.values_list("at", flat=True)[:limit]), limit):
        return wait
    return seconds_address_locked(ip)


def record_failure(username: str, ip: str | None, device: str = "") -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()
    LoginFailure.objects.create(username=username.lower(), ip_address=ip, device=device)


def clear_failures(username: str, device: str = "") -> None:
    """Forget an account's failures, which lifts its lock (a good log-in from a new browser
    does this too); with `device`, only that known device's."""
    failures = LoginFailure.objects.filter(username=username.lower())
    if device:
        failures = failures.filter(device=device)
    failures.delete()
