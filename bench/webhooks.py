"""Benchmark 6's helpers in child processes: the key and jobs of the webhook run, and a watcher.

    python -m bench.webhooks setup URL TOKEN SECRET         user, key (its webhook token, secret)
    python -m bench.webhooks track KEY_PK JOB_ID...         the jobs, tracked as Track does
    python -m bench.webhooks watch SECONDS JOB_PK...        each job's cached count over time

The watcher reads the database every WATCH_EVERY seconds, on CLOCK_MONOTONIC (the clock the
simulator stamps its scrapes with), and reports every change of a job's cached count: when a
document became visible to the next render of the job page. It stops once every job has
settled, or after SECONDS.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.common import SIM_KEY, emit, setup_django

WATCH_EVERY = 0.05


def setup(url: str, token: str, secret: str) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User

    from keys.models import ApiKey

    user = User.objects.create_user("webhooks")
    key = ApiKey.objects.create(
        owner=user,
        name="Bench",
        key=SIM_KEY,
        api_url=url,
        webhook_token=token,
        webhook_secret=secret,
        webhooks_enabled=True,
    )
    return {"key_pk": key.pk}


def track(key_pk: int, job_ids: list[str]) -> dict[str, Any]:
    setup_django()
    from jobs.models import Job
    from jobs.tasks import request_sync
    from keys.models import ApiKey

    key = ApiKey.objects.select_related("owner").get(pk=key_pk)
    pks = []
    for job_id in job_ids:
        job, _ = Job.objects.track(owner=key.owner, api_key=key, remote_id=job_id, kind="batch")
        request_sync(job)
        pks.append(job.pk)
    return {"job_pks": pks}


def watch(seconds: float, job_pks: list[int]) -> dict[str, Any]:
    setup_django()
    from jobs.models import Job

    seen: dict[int, list[list[float]]] = {pk: [] for pk in job_pks}
    last: dict[int, int] = dict.fromkeys(job_pks, 0)
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        now = time.monotonic()
        rows = Job.objects.filter(pk__in=job_pks).values_list(
            "pk", "documents_cached", "sync_state"
        )
        settled = 0
        for pk, cached, state in rows:
            if cached != last[pk]:
                seen[pk].append([now, cached])
                last[pk] = cached
            settled += state != Job.SyncState.ACTIVE
        if settled == len(job_pks):
            break
        time.sleep(WATCH_EVERY)
    states = dict(Job.objects.filter(pk__in=job_pks).values_list("pk", "sync_state"))
    return {
        "changes": {str(pk): changes for pk, changes in seen.items()},
        "states": states,
        "started": started,
    }


def main(argv: list[str]) -> None:
    if argv[0] == "setup":
        emit(setup(argv[1], argv[2], argv[3]))
    elif argv[0] == "track":
        emit(track(int(argv[1]), argv[2:]))
    elif argv[0] == "watch":
        emit(watch(float(argv[1]), [int(pk) for pk in argv[2:]]))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
