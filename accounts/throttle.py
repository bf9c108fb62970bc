"""Log-in throttling: after too many recent failures for an account, refuse further attempts
for a while without even checking the password; an address with too many failures loses its
attempts at accounts that already have failures.

Counts live in the database, so every web process enforces the same limit.
"""

import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LoginFailure

# Looser than the per-account limit: many people can share one address (an office, a VPN).
ADDRESS_LIMIT_FACTOR = 4


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


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def _seconds_until_under(times: list[datetime], limit: int) -> int:
    """`times`: the newest `limit` failures, newest first."""
    if len(times) < limit:
        return 0
    return max(1, int((times[-1] + _window() - timezone.now()).total_seconds()))


def seconds_locked(username: str, ip: str | None) -> int:
    """0 if a log-in may be attempted, else the seconds until enough failures age out."""
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - _window()).order_by("-at")
    limit = settings.LOGIN_FAILURE_LIMIT
    account = list(recent.filter(username=username.lower()).values_list("at", flat=True)[:limit])
    if wait := _seconds_until_under(account, limit):
        return wait
    # The address limit only guards accounts that already have failures: a guesser behind a
    # shared address (or a proxy) must not lock out a colleague who types the right password.
    if not account or not ip:
        return 0
    limit *= ADDRESS_LIMIT_FACTOR
    address = list(recent.filter(ip_address=ip).values_list("at", flat=True)[:limit])
    return _seconds_until_under(address, limit)


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()
    LoginFailure.objects.create(username=username.lower(), ip_address=ip)


def clear_failures(username: str) -> None:
    """Forget an account's failures, which lifts its lock (a good log-in does this too)."""
    LoginFailure.objects.filter(username=username.lower()).delete()
