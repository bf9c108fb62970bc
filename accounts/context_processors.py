from typing import Any

from django.conf import settings
from django.http import HttpRequest


def registration(request: HttpRequest) -> dict[str, Any]:
    return {"registration_open": settings.REGISTRATION_OPEN}
