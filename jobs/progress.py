"""Rate, ETA and the progress chart of a job, drawn from its progress samples.

They count what the job's progress counts (Job.progress): pages done, scraped or failed, of
the job's total; the chart's top is that total, so the chart, the bar and the counts agree.
"""

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
    def chart_middle(self) -> int:
        """The middle gridline: the top is even (chart_top_for), so a whole number of pages."""
        return self.chart_top // 2


def chart_top_for(total: int) -> int:
    """The chart's top: at least the total, and even, so the middle gridline is a whole page
    (a top of 5 would put it at 2.5 pages)."""
    top = max(total, 2)
    return top + top % 2


def progress_summary(job: Job) -> ProgressSummary:
    samples = list(
        job.samples.order_by("-at").values_list("at", "completed", "failed", "total")[:500]
    )
    samples.reverse()
    points = [(at, completed + failed, total) for at, completed, failed, total in samples]
    summary = ProgressSummary()
    progress = job.progress
    if len(points) >= 2:
        _draw_chart(summary, points, progress.total)
    if job.is_terminal or len(points) < 2:
        return summary
    latest_at, latest_done, _ = points[-1]
    recent = [p for p in points if latest_at - p[0] <= RATE_WINDOW]
    first_at, first_done, _ = recent[0] if len(recent) >= 2 else points[0]
    minutes = (latest_at - first_at).total_seconds() / 60
    if minutes <= 0:
        return summary
    summary.per_minute = max(latest_done - first_done, 0) / minutes
    remaining = max(progress.total - progress.done, 0)
    if summary.per_minute > 0 and remaining:
        summary.eta = timedelta(minutes=remaining / summary.per_minute)
    return summary


def _draw_chart(
    summary: ProgressSummary, points: list[tuple[datetime, int, int]], total: int
) -> None:
    """An SVG polyline of pages done over time (scaled to the chart box), and its axes."""
    step = max(1, math.ceil(len(points) / (MAX_CHART_POINTS - 1)))
    picked = points[::step]
    if picked[-1] is not points[-1]:
        picked.append(points[-1])
    start, end = picked[0][0], picked[-1][0]
    span = (end - start).total_seconds() or 1
    top = chart_top_for(max(total, max(p[2] for p in picked), max(p[1] for p in picked)))
    drawn = []
    for at, done, _total in picked:
        x = (at - start).total_seconds() / span * CHART_WIDTH
        y = CHART_HEIGHT - done / top * CHART_HEIGHT
        drawn.append(f"{x:.1f},{y:.1f}")
    summary.chart_points = " ".join(drawn)
    summary.chart_top = top
    summary.chart_start, summary.chart_end = start, end
    if span < 120:
        summary.chart_time_format = "H:i:s"
    elif timezone.localtime(start).date() != timezone.localtime(end).date():
        summary.chart_time_format = "M j, H:i"
