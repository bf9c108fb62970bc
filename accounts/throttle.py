"""Log-in throttling: after too many recent failures for an account or from an address,
refuse further attempts for a while without even checking the password.

Counts live in the database, so every web process enforces the same limit.
"""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import LoginFailure


def client_ip(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only: forwarded headers are trivially forged unless a proxy rewrites them.
    return request.META.get("REMOTE_ADDR") if request is not None else None


def _window() -> timedelta:
    return timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def seconds_locked(username: str, ip: str | None) -> int:
    """0 if a log-in may be attempted, else the seconds until enough failures age out."""
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - _window())
    # Per account, and (looser, shared addresses exist) per client address.
    checks = [(recent.filter(username=username.lower()), settings.LOGIN_FAILURE_LIMIT)]
    if ip:
        checks.append((recent.filter(ip_address=ip), settings.LOGIN_FAILURE_LIMIT * 4))
    for failures, limit in checks:
        times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            return max(1, int((times[-1] + _window() - timezone.now()).total_seconds()))
    return 0


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - _window()).delete()
    LoginFailure.objects.create(username=username.lower(), ip_address=ip)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()
