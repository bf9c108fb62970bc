"""`manage.py check --deploy`: notifications link to the dashboard, so it must know its address."""

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def public_url_is_set(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PUBLIC_URL:
        return []
    return [
        Warning(
            "PUBLIC_URL is not set: links in notification emails and webhooks point at "
            "http://127.0.0.1:8000.",
            hint="Set PUBLIC_URL to the dashboard's public base URL, e.g. https://dash.example.com.",
            id="notifications.W001",
        )
    ]
