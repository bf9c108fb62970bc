"""Rate, ETA and the progress chart's axes (jobs/progress.py), and how the job page shows them."""

import uuid
from datetime import UTC, datetime, timedelta

from django.test import Client

from jobs.models import ApiKey, Job
from jobs.progress import progress_summary
from tests.conftest import make_job


def sampled_job(key: ApiKey, start: datetime, *points: tuple[float, int], total: int) -> Job:
    """A running job with a progress sample at each (minutes after start, completed)."""
    job = make_job(key, str(uuid.uuid4()), status="scraping", completed=points[-1][1], total=total)
    for minutes, completed in points:
        job.samples.create(at=start + timedelta(minutes=minutes), completed=completed, total=total)
    return job


START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_the_chart_spans_zero_to_the_expected_pages_over_the_sampled_time(
    alice_key: ApiKey,
) -> None:
    job = sampled_job(alice_key, START, (0, 0), (5, 150), (10, 300), total=1000)
    summary = progress_summary(job)
    assert summary.chart_top == 1000 and summary.chart_middle == "500"
    assert (summary.chart_start, summary.chart_end) == (START, START + timedelta(minutes=10))
    assert summary.chart_time_format == "H:i"
    # The line ends at 300 of 1,000 pages: 70 % of the way down the 60-high box.
    assert summary.chart_points.split()[-1] == "300.0,42.0"


def test_a_short_span_shows_seconds_and_a_long_one_the_day(alice_key: ApiKey) -> None:
    short = sampled_job(alice_key, START, (0, 0), (0.5, 3), total=5)
    assert progress_summary(short).chart_time_format == "H:i:s"
    assert progress_summary(short).chart_middle == "2.5"
    overnight = sampled_job(alice_key, START, (0, 0), (12 * 60, 40), total=80)
    assert progress_summary(overnight).chart_time_format == "M j, H:i"


def test_the_job_page_labels_both_axes(alice_client: Client, alice_key: ApiKey) -> None:
    job = sampled_job(alice_key, START, (0, 0), (5, 150), (10, 300), total=1000)
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<figcaption>Pages scraped over time</figcaption>" in html
    assert '<div class="chart-y" aria-hidden="true"><span>1,000</span><span>500</span>' in html
    assert '<time datetime="2026-11-30T14:00:00+00:00">14:00</time>' in html
    assert '<time datetime="2026-11-30T14:10:00+00:00">14:10</time>' in html
    assert "time (UTC)" in html
    assert 'aria-label="300 of 1,000 pages scraped between 14:00 and 14:10"' in html


def test_one_sample_draws_no_chart(alice_client: Client, alice_key: ApiKey) -> None:
    job = sampled_job(alice_key, START, (0, 0), total=10)
    assert progress_summary(job).chart_points == ""
    assert "chart-figure" not in alice_client.get(f"/jobs/{job.pk}/").content.decode()
