from django.apps import AppConfig


class FakecrawlConfig(AppConfig):
    """The simulator as a Django app, for its `demo` command only: installed when DEBUG is on,
    so production never loads the simulator."""

    name = "fakecrawl"
    verbose_name = "Firecrawl simulator (demo)"
