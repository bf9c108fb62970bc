"""What error reports (the debug page, error e-mails, trackers) may show: never a submitted API key
or password, whatever DEBUG says.

Django's own filter ignores `sensitive_post_parameters` and `sensitive_variables` when DEBUG is on
(the `make run` default), and only knows the names it was told per view.
"""

from collections.abc import ItemsView
from pprint import pformat
from types import FrameType
from typing import Any

from django.http import HttpRequest, QueryDict
from django.views.debug import SafeExceptionReporterFilter

# Posted by the "Add key" form, a key's webhook settings, log-in, sign-up and password change.
SENSITIVE_POST_PARAMETERS = (
    "key",
    "secret",
    "password",
    "password1",
    "password2",
    "old_password",
    "new_password1",
    "new_password2",
)
# Local variables that hold a plain key: the key form's `cleaned` data and Firecrawl `client`,
# and anything called `key`, `api_key`, `*_key`, `password`…
SENSITIVE_VARIABLES = frozenset({"cleaned", "cleaned_data", "client", "credentials", "headers"})
SENSITIVE_SUFFIXES = ("key", "password", "secret", "token")
# Shorter posted values are not looked for inside other variables: they would match everything.
MIN_SECRET_LENGTH = 6


def _is_sensitive_name(name: str) -> bool:
    return name.lower() in SENSITIVE_VARIABLES or name.lower().endswith(SENSITIVE_SUFFIXES)


class ReportFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True  # with DEBUG on too: a developer's page is still read over shoulders, pasted

    def _post_parameters(self, request: HttpRequest | None) -> list[str] | str:
        marked = getattr(request, "sensitive_post_parameters", [])
        if marked == "__ALL__":
            return "__ALL__"
        return [*SENSITIVE_POST_PARAMETERS, *marked]

    def _posted_secrets(self, request: HttpRequest | None) -> list[str]:
        if request is None or request.method != "POST":
            return []
        names = self._post_parameters(request)
        if names == "__ALL__":
            names = list(request.POST)
        values = (value for name in names for value in request.POST.getlist(name))
        return [value for value in values if len(value) >= MIN_SECRET_LENGTH]

    def get_cleansed_multivaluedict(
        self, request: HttpRequest | None, multivaluedict: QueryDict
    ) -> QueryDict:
        names = self._post_parameters(request)
        cleansed = multivaluedict.copy()
        for name in list(multivaluedict) if names == "__ALL__" else names:
            if name in cleansed:
                cleansed[name] = self.cleansed_substitute
        return cleansed

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None:
            return {}
        return self.get_cleansed_multivaluedict(request, request.POST)

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: FrameType
    ) -> ItemsView[str, Any]:
        secrets = self._posted_secrets(request)
        variables = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            # By name, and by content: a posted key held in any variable, in any frame (the
            # `value` of a model field, the headers deep inside requests…).
            if _is_sensitive_name(name) or (secrets and _contains(value, secrets)):
                value = self.cleansed_substitute
            variables[name] = value
        return variables.items()


def _contains(value: Any, secrets: list[str]) -> bool:
    try:
        text = value if isinstance(value, str) else pformat(value)
    except Exception:  # the report shows its own "Error in formatting" for these
        return False
    return any(secret in text for secret in secrets)
