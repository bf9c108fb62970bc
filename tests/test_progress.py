"""Rate, ETA and the chart drawn from a job's progress samples (jobs/progress.py)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import ApiKey, Job
from jobs.progress import CHART_HEIGHT, CHART_WIDTH, MAX_CHART_POINTS, progress_summary
from tests.conftest import make_job


@pytest.fixture
def job(alice_key: ApiKey) -> Job:
    return make_job(alice_key, str(uuid.uuid4()), status="scraping", completed=0, total=1000)


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
