"""Benchmark 8's helpers in child processes: many jobs synced by 1, 2 or 4 worker processes.

python -m bench.scaleout sim SPEC_JSON            the simulator (every status page answered
                                                  after a delay): prints one JSON line, then
                                                  answers `stats` and `clear` on stdin
python -m bench.scaleout setup SPEC_JSON          users, keys and tracked jobs (a result)
python -m bench.scaleout pollers BASE STOP USERS  job-page polls (htmx), each user's tab every
                                                  second, until the file STOP exists (a result)
python -m bench.scaleout wait SECONDS JOBS_JSON   until every job is fully cached; then what the
                                                  database holds (a result)
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import emit, setup_django

KEY = "fc-scaleout{:023d}"


def sim(spec: dict[str, Any]) -> None:
    from fakecrawl import FakeFirecrawl, Fault

    server = FakeFirecrawl(seed=31)
    keys = [KEY.format(n) for n in range(spec["keys"])]
    jobs: dict[str, list[str]] = {key: [] for key in keys}
    for key in keys:
        server.add_key(key, team=key, credits=None)
    for n in range(spec["jobs"]):
        key = keys[n % len(keys)]
        jobs[key].append(
            server.create_batch(key, n=spec["docs"], state="completed", doc_size=spec["doc_size"])
        )
    # Every read of a batch (its status pages and its errors) answers after the delay, as a
    # remote Firecrawl does; the simulator serves requests in threads, so they overlap.
    server.inject(Fault.slow(spec["latency"]), count=None, path_contains="/batch/scrape/")
    url = server.start()
    # The simulator's clock is monotonic: its request times become wall times for the budget's
    # calendar minutes.
    wall_offset = time.time() - server.clock()
    print(json.dumps({"url": url, "jobs": jobs}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            print(json.dumps(_stats(server.requests, wall_offset)), flush=True)
        elif command == "clear":
            server.clear_requests()
            print(json.dumps({"ok": True}), flush=True)
    server.stop()


def _stats(requests: list[Any], wall_offset: float) -> dict[str, Any]:
    """Status-page and errors reads, pages read more than once, each key's busiest minute."""
    reads = [r for r in requests if r.method == "GET" and "/batch/scrape/" in r.path]
    pages = [r for r in reads if not r.path.rstrip("/").endswith("/errors")]
    served = Counter((r.path, r.query.get("skip", "0")) for r in pages if r.status == 200)
    per_minute = Counter((r.api_key, int((r.time + wall_offset) // 60)) for r in reads)
    return {
        "status_reads": len(pages),
        "errors_reads": len(reads) - len(pages),
        "repeated_pages": sum(n - 1 for n in served.values()),
        "not_ok": sum(r.status != 200 for r in reads),
        "first_at": min((r.time + wall_offset for r in reads), default=0.0),
        "busiest_key_minute": max(per_minute.values(), default=0),
    }


def setup(spec: dict[str, Any]) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    from jobs.models import Job
    from keys.models import ApiKey

    users = []
    for number, (secret, remote_ids) in enumerate(spec["jobs"].items()):
        user = User.objects.create_user(f"user{number}")
        key = ApiKey.objects.create(owner=user, name="Key", key=secret, api_url=spec["url"])
        # Tracked, not queued: the workers' schedulers find them due when they start.
        job_pks = [
            Job.objects.track(owner=user, api_key=key, remote_id=remote_id, kind="batch")[0].pk
            for remote_id in remote_ids
        ]
        client = Client()
        client.force_login(user)
        users.append({"jobs": job_pks, "session": client.cookies["sessionid"].value})
    return {"users": users}


def pollers(base: str, stop: str, users: list[dict[str, Any]]) -> dict[str, Any]:
    import requests

    loads: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def tab(user: dict[str, Any], seed: int) -> None:
        rng = random.Random(seed)
        http = requests.Session()
        http.cookies.set("sessionid", user["session"])
        while not Path(stop).exists():
            started = time.perf_counter()
            job_pk = rng.choice(user["jobs"])
            try:
                response = http.get(
                    f"{base}/jobs/{job_pk}/", headers={"HX-Request": "true"}, timeout=120
                )
                code = str(response.status_code)
            except requests.RequestException as exc:
                code = f"error {type(exc).__name__}"
            with lock:
                loads.append(time.perf_counter() - started)
                statuses[code] += 1
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))

    threads = [
        threading.Thread(target=tab, args=(user, n), daemon=True) for n, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"loads": loads, "statuses": dict(statuses)}


def wait(seconds: float, job_pks: list[int]) -> dict[str, Any]:
    setup_django()
    from django.db.models import Count, Max, Q

    from jobs.models import Document, Job

    give_up_at = time.monotonic() + seconds
    jobs = Job.objects.filter(pk__in=job_pks)
    while jobs.filter(fully_cached=False).exists() and time.monotonic() < give_up_at:
        time.sleep(0.2)  # a bench's wait for other processes' work, not a test
    rows = Document.objects.filter(job__in=job_pks).aggregate(
        n=Count("id"), last=Max("cached_at"), unindexed=Count("id", filter=Q(search_indexed=False))
    )
    distinct = (
        Document.objects.filter(job__in=job_pks).values("job", "scrape_id").distinct().count()
    )
    return {
        "fully_cached": jobs.filter(fully_cached=True).count(),
        "cached": sum(jobs.values_list("documents_cached", flat=True)),
        "rows": rows["n"],
        "distinct": distinct,
        "unindexed": rows["unindexed"],
        "last_cached_at": rows["last"].timestamp() if rows["last"] else 0.0,
    }


def main(argv: list[str]) -> None:
    if argv[0] == "sim":
        sim(json.loads(argv[1]))
    elif argv[0] == "setup":
        emit(setup(json.loads(argv[1])))
    elif argv[0] == "pollers":
        emit(pollers(argv[1], argv[2], json.loads(argv[3])))
    elif argv[0] == "wait":
        emit(wait(float(argv[1]), json.loads(argv[2])))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
