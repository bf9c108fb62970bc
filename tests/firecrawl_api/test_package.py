"""firecrawl_api stands alone: it imports without Django configured and loads nothing of Django
or of the project's apps; `import firecrawl_api` alone (what the models do) leaves the HTTP client
and requests unloaded, so loading the apps and their models does too."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("django", "accounts", "keys", "jobs", "firecrawl_dash", "fakecrawl")


def modules_after(statement: str, settings: str | None = None) -> set[str]:
    """The modules a fresh interpreter holds after `statement`, with no Django settings named
    unless `settings` is given."""
    env = {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}
    if settings is not None:
        env["DJANGO_SETTINGS_MODULE"] = settings
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def project_modules(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in PROJECT)


def test_importing_the_package_loads_neither_django_nor_requests() -> None:
    modules = modules_after("import firecrawl_api")
    assert "firecrawl_api.errors" in modules and "firecrawl_api.wire" in modules
    assert project_modules(modules) == []
    assert "requests" not in modules and "firecrawl_api.client" not in modules


def test_the_client_imports_without_django_settings_and_loads_no_django() -> None:
    modules = modules_after(
        "import firecrawl_api, firecrawl_api.client\n"
        "from firecrawl_api.client import FirecrawlClient\n"
        "FirecrawlClient('https://api.firecrawl.dev', 'fc-test').close()"
    )
    assert "requests" in modules
    assert project_modules(modules) == []


def test_loading_the_apps_and_their_models_leaves_the_client_unloaded() -> None:
    modules = modules_after("import django\ndjango.setup()", settings="firecrawl_dash.settings")
    assert {"jobs.models", "keys.models", "firecrawl_api"} <= modules
    assert "requests" not in modules and "firecrawl_api.client" not in modules


def test_the_webhook_edge_imports_without_django_settings_and_loads_no_django() -> None:
    modules = modules_after("import firecrawl_api.webhooks")
    assert project_modules(modules) == []
    assert "requests" not in modules
