"""Settings fail clearly: a wrong number names its variable in one line, a deadline that is not
below the lease fails `manage.py check`, and the README's table lists exactly what is read."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from firecrawl_dash.settings import envfloat, envint
from jobs.checks import deadline_below_lease

ROOT = Path(__file__).resolve().parent.parent
# Read by the Makefile (make run, make demo), not by the settings module.
MAKE_VARIABLES = {"PORT"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FIRECRAWL_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "firecrawl_dash.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "FIRECRAWL_POLL_INTERVAL",
            "five",
            "FIRECRAWL_POLL_INTERVAL must be an integer, not 'five'",
        ),
        (
            "FIRECRAWL_WORKER_DEADLINE",
            "60s",
            "FIRECRAWL_WORKER_DEADLINE must be a number, not '60s'",
        ),
        ("FIRECRAWL_SETTLE_SECONDS", "-1", "FIRECRAWL_SETTLE_SECONDS must be at least 0, not -1.0"),
    ],
)
def test_a_wrong_number_is_one_line_naming_the_variable(name: str, value: str, said: str) -> None:
    result = manage("check", **{name: value})

    assert result.returncode != 0
    assert result.stderr == f"Configuration error: {said}\n"


def test_a_worker_deadline_not_below_the_lease_fails_manage_py_check() -> None:
    result = manage("check", FIRECRAWL_WORKER_DEADLINE="120", FIRECRAWL_SYNC_LEASE_SECONDS="120")

    assert result.returncode != 0
    assert "(jobs.E001) FIRECRAWL_WORKER_DEADLINE (120 s) must be below" in result.stderr
    assert manage("check", FIRECRAWL_WORKER_DEADLINE="119").returncode == 0


def test_the_deadline_check_holds_the_defaults_and_refuses_an_equal_lease(settings: Any) -> None:
    assert deadline_below_lease() == []
    settings.FIRECRAWL_SYNC_LEASE_SECONDS = int(settings.FIRECRAWL_WORKER_DEADLINE)
    assert [message.id for message in deadline_below_lease()] == ["jobs.E001"]


def test_the_number_helpers_take_bounds_and_refuse_what_is_not_a_finite_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOME_SECONDS", "2.5")
    assert envfloat("SOME_SECONDS", "1", minimum=0) == 2.5
    assert envint("UNSET_NUMBER", "7", minimum=1) == 7
    for text in ("nan", "inf", ""):
        monkeypatch.setenv("SOME_SECONDS", text)
        with pytest.raises(ImproperlyConfigured, match=r"^SOME_SECONDS must be a"):
            envfloat("SOME_SECONDS", "1")
    monkeypatch.setenv("SOME_COUNT", "0")
    with pytest.raises(ImproperlyConfigured, match=r"^SOME_COUNT must be at least 1, not 0$"):
        envint("SOME_COUNT", "5", minimum=1)


def variables_read_by_settings() -> set[str]:
    """Every environment variable firecrawl_dash/settings.py reads (helpers and os.getenv)."""
    tree = ast.parse((ROOT / "firecrawl_dash" / "settings.py").read_text())
    readers = {"envint", "envfloat", "envbool", "envlist", "envsecret", "getenv"}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in readers and isinstance(first, ast.Constant):
                names.add(str(first.value))
    return names


def variables_in_readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_readme_table_lists_exactly_the_settings_an_operator_sets() -> None:
    assert variables_in_readme_table() - MAKE_VARIABLES == variables_read_by_settings()
