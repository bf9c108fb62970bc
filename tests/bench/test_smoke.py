"""The benchmark scripts at tiny sizes (`python -m bench --quick`), so they never rot, and the
harness's own rules (what it writes where), checked with stand-in benchmarks in a second.

Not a timing test: it only checks that every benchmark runs to its table rows. The quick run
starts some forty processes (a minute): it is marked slow, so `pytest -m "not slow"` skips it
and `make test`, which runs everything, keeps it.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

EXPECTED_ROWS = [
    "## 1. Caching a big batch",
    "| floor: requests + json.loads, discarded |",
    "| firecrawl-py 4.54 get_batch_scrape_status (auto-paging) |",
    "| sync_job, sqlite: time to all cached |",
    "| sync_job, sqlite: all cached → last document searchable (one worker) |",
    "| sync_job, sqlite: peak RSS |",
    "## 2. Browsing a huge job",
    "| sqlite: last page vs page 1 |",
    "| sqlite: sorted by title, last page vs page 1 |",
    "| sqlite: sorted by status, last page vs page 1 |",
    "| sqlite: search |",
    "| sqlite: filter (4xx) |",
    "| sqlite: SQL queries per page, every case and size |",
    "## 3. Downloading a job as a zip",
    "| throughput in process (the view through Django's test client) |",
    "| throughput over HTTP: gunicorn (3 workers) |",
    "| throughput over HTTP: runserver (make run) |",
    "| peak RSS |",
    "| first byte |",
    "| first byte over HTTP (gunicorn) |",
    "| zip, 2 threads vs the view's thread alone |",
    "| xlsx, peak RSS |",
    "| CSV with markdown, peak RSS |",
    "## 4. Polling a running job",
    "| upstream status requests in 3 s |",
    "| partial response, median |",
    "| partial response, p95 |",
    "## 5. Dashboard with many jobs",
    "| sqlite: jobs list, page 1 |",
    "## 6. Keeping screenshots (filesystem and S3)",
    "| without screenshots: time to all cached |",
    "| filesystem: cached and every screenshot kept |",
    "| S3 (SeaweedFS): cached and every screenshot kept |",
    "| S3 (SeaweedFS): keeping the screenshots alone |",
    "## 7. One hostile key beside healthy ones, under load",
    "| sqlite: responses ≥ 500 (or no answer) |",
    '| sqlite: "database is locked" in the logs |',
    "| sqlite: healthy jobs cached exactly |",
    "| sqlite: healthy page loads, p95 |",
    "## 8. Pages arriving by webhook vs polling only",
    "| 40 URLs over 4 s: page lag p95, webhooks |",
    "| 40 URLs over 4 s: upstream status requests per job, webhooks |",
    "## 9. Reading a job through the API",
    "| sqlite: every document, API pages (fields=full) |",
    "| sqlite: peak RSS, API walk |",
    "## 10. Many workers",
    "| 1 worker: time to all cached |",
    "| 2 workers: documents cached twice |",
    "| 2 workers: busiest minute of one key |",
]


@pytest.mark.slow
def test_it_runs_every_benchmark_at_tiny_sizes_and_reports_its_rows(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,  # a hang ends; a busy machine does not (a minute when idle)
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = report.read_text()
    missing = [row for row in EXPECTED_ROWS if row not in text]
    assert not missing, f"rows missing from the report: {missing}\n{text}"
    assert "(quick sizes: not representative)" in text


# The harness itself, with a stand-in for the benchmarks -------------------------------------


@pytest.fixture
def stand_in(monkeypatch: Any) -> list[str]:
    """The dashboard benchmark replaced by one that returns a row at once; records its runs."""
    from bench import common, scenarios

    ran: list[str] = []

    def dashboard(ws: Any, sizes: Any, vendors: list[str]) -> scenarios.Section:
        ran.append(",".join(vendors))
        section = scenarios.Section("dashboard", "5. Dashboard with many jobs")
        section.rows.append(scenarios.Row("stand-in row", "1 ms", target="≤ 2 ms", met=True))
        return section

    def never(*args: Any) -> Any:
        raise AssertionError("this benchmark was not asked for")

    monkeypatch.setattr(scenarios, "dashboard", dashboard)
    for name in ("ingest", "browse", "download", "poll", "webhooks"):
        monkeypatch.setattr(scenarios, name, never)
    monkeypatch.setattr(common, "postgres_available", lambda: None)
    return ran


def test_quick_mode_prints_the_report_and_never_writes_the_committed_one(
    stand_in: list[str], capsys: Any
) -> None:
    from bench.__main__ import main

    committed = REPO / "docs" / "PERFORMANCE.md"
    before = committed.read_bytes()
    assert main(["--quick", "--only", "dashboard"]) == 0
    assert stand_in == ["sqlite"]  # --quick measures SQLite only
    assert committed.read_bytes() == before
    printed = capsys.readouterr().out
    assert "| stand-in row | 1 ms |" in printed
    assert "(quick sizes: not representative)" in printed


def test_a_full_run_writes_its_report_where_it_is_told(stand_in: list[str], tmp_path: Path) -> None:
    from bench.__main__ import main

    out = tmp_path / "report.md"
    assert main(["--only", "dashboard", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| stand-in row | 1 ms |" in text and "Every target met." in text
    assert "not representative" not in text


def test_an_unknown_benchmark_is_refused_before_anything_runs(stand_in: list[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--quick", "--only", "dashboard,nothing"])
    assert exited.value.code == 2 and stand_in == []
