"""The benchmark scripts at tiny sizes (`python -m bench --quick`), so they never rot.

Not a timing test: it only checks that every benchmark runs to its table rows.
"""

import contextlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

EXPECTED_ROWS = [
    "## 1. Caching a big batch",
    "| floor: requests + json.loads, discarded |",
    "| firecrawl-py 4.54 get_batch_scrape_status (auto-paging) |",
    "| sync_job, sqlite: time to all cached |",
    "| sync_job, sqlite: peak RSS |",
    "## 2. Browsing a huge job",
    "| sqlite: last page vs page 1 |",
    "| sqlite: search |",
    "| sqlite: filter (4xx) |",
    "| sqlite: SQL queries per page, every case and size |",
    "## 3. Downloading a job as a zip",
    "| throughput |",
    "| peak RSS |",
    "| first byte |",
    "## 4. Polling a running job",
    "| upstream status requests in 3 s |",
    "| partial response, median |",
    "| partial response, p95 |",
    "## 5. Dashboard with many jobs",
    "| sqlite: jobs list, page 1 |",
]


def test_it_runs_every_benchmark_at_tiny_sizes_and_reports_its_rows(tmp_path: Path) -> None:
    report = tmp_path / "PERFORMANCE.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(report)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    text = report.read_text()
    missing = [row for row in EXPECTED_ROWS if row not in text]
    assert not missing, f"rows missing from the report: {missing}\n{text}"
    assert "(quick sizes: not representative)" in text


def test_quick_mode_never_overwrites_the_committed_report() -> None:
    from bench.__main__ import main

    committed = REPO / "docs" / "PERFORMANCE.md"
    before = committed.read_bytes() if committed.exists() else None
    # --only with a bad name fails before anything runs; the default output is what matters.
    with contextlib.suppress(SystemExit):
        main(["--quick", "--only", "nothing"])
    assert (committed.read_bytes() if committed.exists() else None) == before
