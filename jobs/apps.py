from django.apps import AppConfig

# Registers the app's system checks (manage.py check).
from jobs import checks  # noqa: F401


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Firecrawl jobs"
