"""Failed log-ins (and sign-ups of a taken username), kept briefly to slow down guessing;
personal API tokens, which authenticate the JSON API (api/) and nothing else."""

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone


class LoginFailure(models.Model):
    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    # The known device (accounts.throttle) the attempt came from; "" for any other browser.
    device = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"]),
            models.Index(fields=["ip_address", "at"]),
            models.Index(fields=["username", "device", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address} at {self.at:%Y-%m-%d %H:%M:%S}"


# What every token starts with: recognisable in a leaked file, and by secret scanners.
TOKEN_PREFIX = "fcd_"


def token_digest(token: str) -> str:
    """What is stored of a token. A token is 256 random bits, so a plain SHA-256 is as good as a
    slow password hash here, and lets a request find its row with one indexed lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def create_token(self, *, owner: Any, name: str, scope: str) -> tuple["ApiToken", str]:
        """A new token: the row, and the token itself, which exists only in this return value
        (it is shown once, then only its hint)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = self.create(
            owner=owner, name=name, scope=scope, digest=token_digest(token), hint=token[-4:]
        )
        return row, token

    def authenticate(self, token: str) -> "ApiToken | None":
        """The active user's token with this value, or None (unknown, revoked, user inactive)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        found = self.select_related("owner").filter(digest=token_digest(token)).first()
        if found is None or not found.owner.is_active:
            return None
        return found

    def spend(self, pk: int, limit: int, now: datetime | None = None) -> float | None:
        """Count one request against the token's minute, and note when it was used: None when
        the request may go ahead, else the seconds until the next minute. One conditional
        UPDATE, atomic in the database, so every web process shares the count."""
        now = now or timezone.now()
        window = now.replace(second=0, microsecond=0)
        fresh = Q(window_started_at=None) | Q(window_started_at__lt=window)
        if self.filter(fresh | Q(window_used__lt=limit), pk=pk).update(
            window_started_at=Case(When(fresh, then=Value(window)), default=F("window_started_at")),
            window_used=Case(When(fresh, then=Value(1)), default=F("window_used") + 1),
            last_used_at=now,
        ):
            return None
        return 60 - (now - window).total_seconds()


class ApiToken(models.Model):
    """A personal token for the JSON API: named, shown once, stored as its digest only."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The last four characters, so a person can tell their tokens apart.
    hint = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # This minute's count of requests made with the token (API_RATE_LIMIT_PER_MINUTE).
    window_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    window_used = models.PositiveIntegerField(default=0, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_token_name_per_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}…{self.hint})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
