"""`manage.py demo`: its own database, its user reset with a password that works at once."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts import throttle
from fakecrawl import FakeFirecrawl
from fakecrawl.management.commands import demo
from jobs.models import Job
from keys.models import ApiKey


def test_it_resets_the_demo_user_and_forgets_its_failed_log_ins(db: Any) -> None:
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 2):
        throttle.record_failure("demo", "203.0.113.9")
    assert throttle.seconds_locked("demo", "203.0.113.9") > 0
    sim = FakeFirecrawl(seed=1)
    sim.add_key(demo.DEMO_KEY, team="demo")
    url = sim.start()
    try:
        demo.Command(stdout=io.StringIO()).set_up(sim, url)
        demo.Command(stdout=io.StringIO()).set_up(sim, url)  # every run starts afresh
    finally:
        sim.stop()
    assert throttle.seconds_locked("demo", "203.0.113.9") == 0
    assert authenticate(username=demo.USERNAME, password=demo.PASSWORD) is not None
    assert Job.objects.filter(owner__username="demo").count() == len(demo.BATCHES) + len(
        demo.CRAWLS
    )
    assert ApiKey.objects.get(owner__username="demo").api_url == url


def test_it_refuses_the_development_database(monkeypatch: pytest.MonkeyPatch) -> None:
    development = str(Path(settings.BASE_DIR) / "db.sqlite3")
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    monkeypatch.setitem(settings.DATABASES["default"], "NAME", development)
    monkeypatch.setattr(settings, "FIRECRAWL_API_URLS", ["*"])
    with pytest.raises(CommandError, match="database of its own"):
        call_command("demo", "--port", "1")
