from django.apps import AppConfig

# Imported for its registration: `check --deploy` then asks for PUBLIC_URL.
from notifications import checks  # noqa: F401


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
