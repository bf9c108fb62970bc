"""Rate, ETA and the progress chart with its axes (jobs/progress.py), and how the job page
shows them."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobs.models import Job
from jobs.progress import CHART_HEIGHT, CHART_WIDTH, MAX_CHART_POINTS, progress_summary
from keys.models import ApiKey
from tests.conftest import make_job


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, str(uuid.uuid4()), status="scraping", completed=0, total=1000)


def sample(job: Job, seconds_ago: float, completed: int, total: int = 1000) -> None:
    job.samples.create(
        at=timezone.now() - timedelta(seconds=seconds_ago), completed=completed, total=total
    )


def test_no_samples_give_no_rate_no_eta_and_no_chart(job: Job) -> None:
    summary = progress_summary(job)
    assert (summary.per_minute, summary.eta, summary.chart_points) == (None, None, "")


def test_one_sample_gives_no_rate(job: Job) -> None:
    sample(job, 10, 100)
    summary = progress_summary(job)
    assert summary.per_minute is None and summary.chart_points == ""


def test_the_rate_counts_the_last_five_minutes_and_the_eta_what_is_left(job: Job) -> None:
    sample(job, 3600, 0)  # an hour ago: outside the rate window
    sample(job, 120, 200)
    sample(job, 0, 400)
    job.completed = 400
    summary = progress_summary(job)
    assert summary.per_minute == pytest.approx(100, rel=1e-3)
    assert summary.eta is not None
    assert abs(summary.eta - timedelta(minutes=6)) < timedelta(seconds=1)


def test_two_samples_at_the_same_instant_give_no_rate(job: Job) -> None:
    at = timezone.now()
    job.samples.create(at=at, completed=1, total=10)
    job.samples.create(at=at, completed=2, total=10)
    assert progress_summary(job).per_minute is None


def test_a_shrinking_count_is_no_negative_rate(job: Job) -> None:
    sample(job, 60, 500)
    sample(job, 0, 450)  # upstream's counter stepped back
    job.completed = 450
    summary = progress_summary(job)
    assert summary.per_minute == 0 and summary.eta is None


def test_a_finished_job_keeps_its_chart_but_has_no_eta(job: Job) -> None:
    sample(job, 60, 500)
    sample(job, 0, 1000)
    job.status, job.completed = Job.Status.COMPLETED, 1000
    summary = progress_summary(job)
    assert summary.chart_points and summary.per_minute is None and summary.eta is None


def test_a_long_history_is_drawn_with_a_bounded_number_of_points_ending_at_the_last(
    job: Job,
) -> None:
    for i in range(450):
        sample(job, 450 - i, i)
    points = progress_summary(job).chart_points.split()
    assert len(points) <= MAX_CHART_POINTS
    x, y = (float(v) for v in points[-1].split(","))
    assert x == CHART_WIDTH and 0 <= y <= CHART_HEIGHT


def sampled_job(key: ApiKey, start: datetime, *points: tuple[float, int], total: int) -> Job:
    """A running job with a progress sample at each (minutes after start, completed)."""
    job = make_job(key, str(uuid.uuid4()), status="scraping", completed=points[-1][1], total=total)
    for minutes, completed in points:
        job.samples.create(at=start + timedelta(minutes=minutes), completed=completed, total=total)
    return job


START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_the_chart_spans_zero_to_the_expected_pages_over_the_sampled_time(
    key: ApiKey,
) -> None:
    job = sampled_job(key, START, (0, 0), (5, 150), (10, 300), total=1000)
    summary = progress_summary(job)
    assert summary.chart_top == 1000 and summary.chart_middle == 500
    assert (summary.chart_start, summary.chart_end) == (START, START + timedelta(minutes=10))
    assert summary.chart_time_format == "H:i"
    # The line ends at 300 of 1,000 pages: 70 % of the way down the 60-high box.
    assert summary.chart_points.split()[-1] == "300.0,42.0"


def test_a_short_span_shows_seconds_and_a_long_one_the_day(key: ApiKey) -> None:
    short = sampled_job(key, START, (0, 0), (0.5, 3), total=5)
    assert progress_summary(short).chart_time_format == "H:i:s"
    assert progress_summary(short).chart_middle == 3  # a whole page, never 2.5
    overnight = sampled_job(key, START, (0, 0), (12 * 60, 40), total=80)
    assert progress_summary(overnight).chart_time_format == "M j, H:i"


def test_the_job_page_labels_both_axes(alice_client: Client, key: ApiKey) -> None:
    job = sampled_job(key, START, (0, 0), (5, 150), (10, 300), total=1000)
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<figcaption>Pages done over time (scraped or failed)</figcaption>" in html
    assert '<div class="chart-y" aria-hidden="true"><span>1,000</span><span>500</span>' in html
    assert '<time datetime="2026-11-30T14:00:00+00:00">14:00</time>' in html
    assert '<time datetime="2026-11-30T14:10:00+00:00">14:10</time>' in html
    assert "time (UTC)" in html
    assert 'aria-label="300 of 1,000 pages done between 14:00 and 14:10"' in html


def test_one_sample_draws_no_chart(alice_client: Client, key: ApiKey) -> None:
    job = sampled_job(key, START, (0, 0), total=10)
    assert progress_summary(job).chart_points == ""
    assert "chart-figure" not in alice_client.get(f"/jobs/{job.pk}/").content.decode()


@pytest.mark.parametrize(
    ("total", "top", "middle"), [(5, 6, 3), (1, 2, 1), (7, 8, 4), (1000, 1000, 500)]
)
def test_the_middle_gridline_is_always_a_whole_page(
    key: ApiKey, total: int, top: int, middle: int
) -> None:
    job = sampled_job(key, START, (0, 0), (0.5, 1), total=total)
    summary = progress_summary(job)
    assert (summary.chart_top, summary.chart_middle) == (top, middle)
