"""Benchmark 4's helpers in child processes: set-up for the polling run, and its pollers.

    python -m bench.poll setup URL JOB_ID SESSIONS   user, key, job and SESSIONS logged-in sessions
    python -m bench.poll pollers BASE JOB_PK SECONDS INTERVAL SESSION_IDS_JSON

Each poller is a thread with its own requests.Session (its own connection and cookie) that does
what the job page does: GET the job with `HX-Request: true` every INTERVAL seconds. Right after
each poll it GETs the login page from a cookie-less session: a trivial view of the same app,
measured under the same load at the same moments.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from typing import Any

from bench.common import SIM_KEY, emit, setup_django


def setup(url: str, job_id: str, sessions: int) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    from jobs.models import Job
    from keys.models import ApiKey

    user = User.objects.create_user("poller")
    key = ApiKey.objects.create(owner=user, name="Bench", key=SIM_KEY, api_url=url)
    job = Job.objects.create(
        owner=user, api_key=key, api_url=url, api_version=key.api_version, remote_id=job_id
    )
    cookies = []
    for _ in range(sessions):
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return {"job_pk": job.pk, "sessions": cookies}


def pollers(
    base: str, job_pk: int, seconds: float, interval: float, session_ids: list[str]
) -> dict[str, Any]:
    import requests

    # The measured window, on the clock the simulator stamps its requests with (CLOCK_MONOTONIC
    # is one clock for every process on the machine).
    opened = time.monotonic()
    deadline = opened + seconds
    partial: list[float] = []
    trivial: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def poller(session_id: str, seed: int) -> None:
        polls = requests.Session()
        polls.cookies.set("sessionid", session_id)
        anonymous = requests.Session()
        rng = random.Random(seed)
        # Tabs are opened at different moments: spread the first polls over one interval.
        next_at = time.monotonic() + rng.uniform(0, interval)
        while True:
            time.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            response = polls.get(
                f"{base}/jobs/{job_pk}/", headers={"HX-Request": "true"}, timeout=60
            )
            took = time.perf_counter() - started
            started = time.perf_counter()
            login = anonymous.get(f"{base}/accounts/login/", timeout=60)
            took_trivial = time.perf_counter() - started
            with lock:
                partial.append(took)
                trivial.append(took_trivial)
                for code in (f"job {response.status_code}", f"login {login.status_code}"):
                    statuses[code] = statuses.get(code, 0) + 1
            next_at += interval

    threads = [
        threading.Thread(target=poller, args=(sid, i), daemon=True)
        for i, sid in enumerate(session_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return {
        "partial": partial,
        "trivial": trivial,
        "statuses": statuses,
        "window": [opened, deadline],
    }


def main(argv: list[str]) -> None:
    if argv[0] == "setup":
        emit(setup(argv[1], argv[2], int(argv[3])))
    elif argv[0] == "pollers":
        emit(pollers(argv[1], int(argv[2]), float(argv[3]), float(argv[4]), json.loads(argv[5])))
    else:
        raise SystemExit(f"unknown mode {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
