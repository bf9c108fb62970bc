"""Which job rows are events worth telling: the scan the worker's scheduler runs.

Events are read from the jobs' own state (jobs.models.Job stays the one home of job rules):
settled ("finished"), found by the automatic import or a webhook ("found"), and in need of
attention (not found, paused, still failing, expiring or expired with documents uncached). Each
becomes a Notification row per channel its owner turned on; the row's unique constraint makes
each event exactly once, however often and by however many workers the scan runs.

Only recent events are looked at (a day: as long as Firecrawl keeps results), and only those
after the owner turned the subscription on, so nothing old floods anyone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from jobs.models import Job
from notifications.models import Channel, Kind, Notification, NotificationSettings, Reason

# Older events are not news: the scan never looks further back.
LOOKBACK = timedelta(days=1)
# The most jobs one condition turns into events per channel and round (the next round goes on).
BATCH = 2000
# Failed reads in a row (each retried already, with growing waits: about 5 minutes in all) after
# which a job still failing needs attention.
FAILING_AFTER = 5


@dataclass(frozen=True)
class Condition:
    kind: str
    reason: str
    # The jobs in this state now (given the time of the scan).
    jobs: Callable[[datetime], Q]
    # The job's field saying when it began; None: when the scan first saw it.
    occurred: str | None
    # True: a new event each time the state begins again (each episode of trouble); False: once
    # per job.
    per_episode: bool

    def event_key(self, occurred_at: datetime) -> str:
        name = self.reason or self.kind
        return f"{name}:{occurred_at.isoformat()}" if self.per_episode else name


def _recent(field: str, now: datetime) -> Q:
    return Q(**{f"{field}__gte": now - LOOKBACK})


def _not_cached() -> Q:
    # Documents are still missing: the cache is neither complete nor as complete as it can be.
    done = Q(fully_cached=True) | Q(pagination_stuck=True, status__in=Job.TERMINAL)
    return ~done


def _expiring(now: datetime) -> Q:
    warning = timedelta(seconds=settings.NOTIFY_EXPIRY_WARNING_SECONDS)
    live = Q(sync_state__in=[Job.SyncState.ACTIVE, Job.SyncState.PAUSED])
    return live & _not_cached() & Q(expires_at__gt=now, expires_at__lte=now + warning)


def _failing(now: datetime) -> Q:
    return Q(
        sync_state=Job.SyncState.ACTIVE,
        consecutive_failures__gte=FAILING_AFTER,
    ) & _recent("trouble_since", now)


def _in_trouble(state: str) -> Callable[[datetime], Q]:
    return lambda now: Q(sync_state=state) & _recent("trouble_since", now)


CONDITIONS = [
    Condition(
        Kind.FINISHED,
        Reason.NONE,
        lambda now: Q(sync_state=Job.SyncState.SETTLED) & _recent("settled_at", now),
        occurred="settled_at",
        per_episode=False,
    ),
    Condition(
        Kind.FOUND,
        Reason.NONE,
        lambda now: Q(origin__in=Job.FOUND_ORIGINS) & _recent("created_at", now),
        occurred="created_at",
        per_episode=False,
    ),
    Condition(
        Kind.ATTENTION,
        Reason.NOT_FOUND,
        _in_trouble(Job.SyncState.NOT_FOUND),
        occurred="trouble_since",
        per_episode=True,
    ),
    Condition(
        Kind.ATTENTION,
        Reason.PAUSED,
        _in_trouble(Job.SyncState.PAUSED),
        occurred="trouble_since",
        per_episode=True,
    ),
    Condition(Kind.ATTENTION, Reason.FAILING, _failing, occurred="trouble_since", per_episode=True),
    Condition(
        Kind.ATTENTION,
        Reason.EXPIRED,
        lambda now: _in_trouble(Job.SyncState.EXPIRED)(now) & _not_cached(),
        occurred="trouble_since",
        per_episode=True,
    ),
    Condition(Kind.ATTENTION, Reason.EXPIRING, _expiring, occurred=None, per_episode=False),
]


def anyone_subscribed() -> bool:
    return (
        NotificationSettings.objects.filter(
            Q(email_finished=True) | Q(email_attention=True) | Q(email_found=True)
        ).exists()
        or NotificationSettings.objects.exclude(webhook_url="").exists()
    )


def detect(now: datetime | None = None) -> int:
    """Record every new event of every condition for every channel that wants it; returns how
    many jobs were found to be news (rows the constraint refused included)."""
    now = now or timezone.now()
    if not anyone_subscribed():
        return 0
    found = 0
    for condition in CONDITIONS:
        for channel in Channel.values:
            found += _detect(condition, channel, now)
    return found


def _detect(condition: Condition, channel: str, now: datetime) -> int:
    already = Notification.objects.filter(job=OuterRef("pk"), channel=channel)
    if condition.per_episode and condition.occurred is not None:
        already = already.filter(reason=condition.reason, occurred_at=OuterRef(condition.occurred))
    else:
        already = already.filter(event_key=condition.event_key(now))
    # A job its owner stopped tracking is gone for them: nothing more is told about it.
    jobs = (
        Job.objects.tracked()
        .filter(
            condition.jobs(now),
            NotificationSettings.subscribed(channel, condition.kind),
            notifications_muted=False,
        )
        .exclude(Exists(already))
    )
    since_field = NotificationSettings.since_field(channel, condition.kind)
    if condition.occurred is None:
        # A state that is news whenever it is seen (expiring): the subscription must be on.
        jobs = jobs.filter(**{f"{since_field}__isnull": False})
    else:
        jobs = jobs.filter(**{f"{condition.occurred}__gte": F(since_field)})
    fields = ["owner"] + ([condition.occurred] if condition.occurred else [])
    rows = []
    for job in jobs.only(*fields)[:BATCH]:
        occurred_at = getattr(job, condition.occurred) if condition.occurred else now
        rows.append(
            Notification(
                owner_id=job.owner_id,
                job=job,
                channel=channel,
                kind=condition.kind,
                reason=condition.reason,
                event_key=condition.event_key(occurred_at),
                occurred_at=occurred_at,
                created_at=now,
            )
        )
    # Another scheduler may have recorded some of them a moment ago: the constraint keeps one.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
