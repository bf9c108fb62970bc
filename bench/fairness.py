"""Benchmark 6's helpers in child processes: one hostile key beside healthy ones, under load.

    python -m bench.fairness sim USERS JOBS DOCS RATE      the simulator: prints one JSON line, then
                                                           serves until stdin closes
    python -m bench.fairness setup SETUP_JSON              users, keys and jobs; sessions (a result)
    python -m bench.fairness pollers BASE SECONDS JSON     the healthy users' browsers (a result)
    python -m bench.fairness check JSON                    what the database holds now (a result)

The hostile key's Firecrawl answers its listings slowly (30 s a page, an activity listing with
no end) and lists 200,000 failed URLs for its job, new ones on every read; it tracks new jobs
automatically. The healthy users' batches complete over the run. Each poller is a thread with its
own session, doing what a person's tab does: the job page's htmx poll every 3 s, now and then
the jobs list, and a write (renaming the key) from time to time.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from typing import Any

from bench.common import emit, setup_django

HOSTILE_KEY = "fc-hostile000000000000000000000h0s7"
HEALTHY_KEY = "fc-healthy{:024d}"
LISTING_DELAY = 30.0
FAILED_URLS = 200_000


def sim(users: int, jobs: int, docs: int, rate: float) -> None:
    from fakecrawl import FakeFirecrawl, Fault

    server = FakeFirecrawl(seed=23)
    server.add_key(HOSTILE_KEY, team="hostile", credits=None)
    healthy: dict[str, list[str]] = {}
    for user in range(users):
        key = HEALTHY_KEY.format(user)
        server.add_key(key, team=f"healthy{user}", credits=None)
        healthy[key] = [server.create_batch(key, n=docs, rate=rate) for _ in range(jobs)]
    hostile_job = server.create_batch(HOSTILE_KEY, n=docs, rate=rate)
    server.inject(Fault.error_flood(FAILED_URLS, fresh_ids=True), count=None, job_id=hostile_job)
    for route in ("/team/activity", "/crawl/active"):
        server.inject(
            Fault.slow(LISTING_DELAY), count=None, api_key=HOSTILE_KEY, path_contains=route
        )
    url = server.start()
    print(json.dumps({"url": url, "healthy": healthy, "hostile": hostile_job}), flush=True)
    for line in sys.stdin:
        if line.strip() == "requests":
            counts: dict[str, int] = {}
            for record in server.requests:
                if record.api_key == HOSTILE_KEY:
                    kind = record.path.rsplit("/", 1)[-1] if "/" in record.path else record.path
                    kind = kind if kind in ("activity", "active", "errors") else "status"
                    counts[kind] = counts.get(kind, 0) + 1
            print(json.dumps(counts), flush=True)
    server.stop()


def setup(spec: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    from jobs.models import Job
    from jobs.tasks import request_sync
    from keys.models import ApiKey

    url = spec["url"]
    hostile = User.objects.create_user("hostile")
    key = ApiKey.objects.create(
        owner=hostile, name="Hostile", key=HOSTILE_KEY, api_url=url, auto_import=True
    )
    job, _ = Job.objects.track(owner=hostile, api_key=key, remote_id=spec["hostile"], kind="batch")
    request_sync(job)
    users = []
    for number, (secret, remote_ids) in enumerate(spec["healthy"].items()):
        user = User.objects.create_user(f"healthy{number}")
        key = ApiKey.objects.create(owner=user, name="Key", key=secret, api_url=url)
        job_pks = []
        for remote_id in remote_ids:
            job, _ = Job.objects.track(owner=user, api_key=key, remote_id=remote_id, kind="batch")
            request_sync(job)
            job_pks.append(job.pk)
        sessions = []
        for _ in range(spec["sessions_per_user"]):
            client = Client()
            client.force_login(user)
            sessions.append(client.cookies["sessionid"].value)
        users.append({"key_pk": key.pk, "jobs": job_pks, "sessions": sessions})
    return {"users": users}


def pollers(base: str, seconds: float, users: list[dict[str, Any]]) -> dict[str, Any]:
    import requests

    def request(
        http: requests.Session,
        what: str,
        user: dict[str, Any],
        job_pk: int,
        token: str,
        rng: random.Random,
    ) -> requests.Response:
        if what == "rename":
            return http.post(
                f"{base}/keys/{user['key_pk']}/rename/",
                {"name": f"Key {rng.randrange(10**6)}", "csrfmiddlewaretoken": token},
                timeout=120,
                allow_redirects=False,
            )
        if what == "jobs list":
            return http.get(f"{base}/", timeout=120)
        return http.get(f"{base}/jobs/{job_pk}/", headers={"HX-Request": "true"}, timeout=120)

    deadline = time.monotonic() + seconds
    loads: list[float] = []
    statuses: dict[str, int] = {}
    failures: list[str] = []
    lock = threading.Lock()

    def browser(user: dict[str, Any], session_id: str, seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        http.cookies.set("sessionid", session_id)
        csrf = http.get(f"{base}/keys/{user['key_pk']}/rename/", timeout=120)
        token = csrf.cookies.get("csrftoken") or http.cookies.get("csrftoken") or ""
        next_at = time.monotonic() + rng.uniform(0, 3)
        polls = 0
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= deadline:
                return
            polls += 1
            what = "rename" if polls % 20 == 0 else "jobs list" if polls % 5 == 0 else "job poll"
            started = time.perf_counter()
            try:
                response = request(http, what, user, rng.choice(user["jobs"]), token, rng)
                code = str(response.status_code)
            except requests.RequestException as exc:
                code, response = f"error {type(exc).__name__}", None
            took = time.perf_counter() - started
            with lock:
                loads.append(took)
                key = f"{what} {code}"
                statuses[key] = statuses.get(key, 0) + 1
                if response is None or response.status_code >= 500:
                    failures.append(f"{what}: {code}")
            next_at += 3.0

    threads = [
        threading.Thread(target=browser, args=(user, session, n * 100 + i), daemon=True)
        for n, user in enumerate(users)
        for i, session in enumerate(user["sessions"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 240)
    return {"loads": loads, "statuses": statuses, "failures": failures[:20]}


def check(spec: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.db.models import Count, Max

    from jobs.models import Document, FailedUrl, Job

    healthy = []
    for user in spec["users"]:
        for job_pk in user["jobs"]:
            job = Job.objects.get(pk=job_pk)
            rows = Document.objects.filter(job=job).aggregate(
                n=Count("id"), ids=Count("scrape_id", distinct=True), last=Max("position")
            )
            healthy.append(
                {
                    "cached": job.documents_cached,
                    "rows": rows["n"],
                    "distinct": rows["ids"],
                    "last": rows["last"],
                    "status": job.status,
                    "state": job.sync_state,
                }
            )
    hostile = Job.objects.get(owner__username="hostile", remote_id=spec["hostile"])
    return {
        "healthy": healthy,
        "hostile_failed_stored": FailedUrl.objects.filter(job=hostile).count(),
        "hostile_failed_count": hostile.failed_count,
        "hostile_imported": Job.objects.filter(owner__username="hostile").count() - 1,
    }


def main(argv: list[str]) -> None:
    if argv[0] == "sim":
        sim(int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]))
    elif argv[0] == "setup":
        emit(setup(json.loads(argv[1])))
    elif argv[0] == "pollers":
        emit(pollers(argv[1], float(argv[2]), json.loads(argv[3])))
    elif argv[0] == "check":
        emit(check(json.loads(argv[1])))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
