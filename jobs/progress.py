"""Rate, ETA and the progress chart of a job, drawn from its progress samples."""

import math
from dataclasses import dataclass
from datetime import timedelta

from jobs.models import Job

RATE_WINDOW = timedelta(minutes=5)
CHART_WIDTH, CHART_HEIGHT = 300, 60
MAX_CHART_POINTS = 200


@dataclass
class ProgressSummary:
    per_minute: float | None = None
    eta: timedelta | None = None
    chart_points: str = ""


def progress_summary(job: Job) -> ProgressSummary:
    samples = list(job.samples.order_by("-at").values_list("at", "completed", "total")[:500])
    samples.reverse()
    summary = ProgressSummary()
    if len(samples) >= 2:
        summary.chart_points = _chart_points(samples)
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


def _chart_points(samples: list[tuple]) -> str:
    """An SVG polyline of completed pages over time (scaled to the chart box)."""
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
    return " ".join(points)
