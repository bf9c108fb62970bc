"""Failed log-ins (and sign-ups of a taken username), kept briefly to slow down guessing."""

from django.db import models
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
