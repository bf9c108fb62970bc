"""Rate, ETA and the progress chart of a job, drawn from its progress samples."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from jobs.models import Job

RATE_WINDOW = timedelta(minutes=5)
CHART_WIDTH, CHART_HEIGHT = 300, 60
MAX_CHART_POINTS = 200


@dataclass
class ProgressSummary:
    per_minute: float | None = None
    eta: timedelta | None = None
    chart_points: str = ""
    # The chart's axes: pages from 0 to chart_top, time from chart_start to chart_end, shown with
    # chart_time_format (a Django date format: seconds for a short span, the day for a long one).
    chart_top: int = 0
    chart_start: datetime | None = None
    chart_end: datetime | None = None
    chart_time_format: str = "H:i"

    @property
    def chart_middle(self) -> str:
        """The label of the middle gridline: a whole number, or a half when the top is odd."""
        half = self.chart_top / 2
        return f"{half:,.0f}" if half.is_integer() else f"{half:,.1f}"


def progress_summary(job: Job) -> ProgressSummary:
    samples = list(job.samples.order_by("-at").values_list("at", "completed", "total")[:500])
    samples.reverse()
    summary = ProgressSummary()
    if len(samples) >= 2:
        _draw_chart(summary, samples)
    if job.is_terminal or len(samples) < 2:
        return summary
    latest_at, latest_completed, _ = samples[-1]
    recent = [s for s in samples if latest_at - s[0] <= RATE_WINDOW]
    first_at, first_completed, _ = recent[0] if len(recent) >= 2 else samples[0]
    minutes = (latest_at - first_at).total_seconds() / 60
    if minutes <= 0:
        return summary
    summary.per_minute = max(latest_completed - first_completed, 0) / minutes
    remaining = max(job.total - job.completed, 0)
    if summary.per_minute > 0 and remaining:
        summary.eta = timedelta(minutes=remaining / summary.per_minute)
    return summary


def _draw_chart(summary: ProgressSummary, samples: list[tuple]) -> None:
    """An SVG polyline of completed pages over time (scaled to the chart box), and its axes."""
    step = max(1, math.ceil(len(samples) / (MAX_CHART_POINTS - 1)))
    picked = samples[::step]
    if picked[-1] is not samples[-1]:
        picked.append(samples[-1])
    start, end = picked[0][0], picked[-1][0]
    span = (end - start).total_seconds() or 1
    top = max(max(s[2] for s in picked), max(s[1] for s in picked), 1)
    points = []
    for at, completed, _total in picked:
        x = (at - start).total_seconds() / span * CHART_WIDTH
        y = CHART_HEIGHT - completed / top * CHART_HEIGHT
        points.append(f"{x:.1f},{y:.1f}")
    summary.chart_points = " ".join(points)
    summary.chart_top = top
    summary.chart_start, summary.chart_end = start, end
    if span < 120:
        summary.chart_time_format = "H:i:s"
    elif timezone.localtime(start).date() != timezone.localtime(end).date():
        summary.chart_time_format = "M j, H:i"
