"""The Firecrawl simulator in a process of its own, so its memory is never counted as ours.

`python -m bench.simserver --jobs '[{"name": "big", "n": 10000, "doc_size": 25000,
"state": "completed"}]' --warm` prints one JSON line (url, job ids, bytes), then answers
commands on stdin, one JSON line each: `log <job id>` (that job's GET requests so far, as
[time, skip, status]), `clear` (forget the requests seen), `create <create_batch keyword
arguments as JSON>` (a job made now: its id, and when its processing starts on the sim clock,
which is this machine's CLOCK_MONOTONIC), `deliveries <job id>` (its webhook deliveries by
outcome). It exits when stdin closes. `--screenshot-bytes N`: the size of each screenshot its
storage host serves. `--webhook-secret` signs the key's webhooks (hosted Firecrawl's team
secret), `--allow-local-webhooks` lets them reach a dashboard on loopback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import SIM_KEY
from fakecrawl import FakeFirecrawl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", required=True)
    parser.add_argument("--warm", action="store_true", help="serialise every document first")
    parser.add_argument("--screenshot-bytes", type=int, default=20_000)
    parser.add_argument("--webhook-secret", default=None)
    parser.add_argument("--allow-local-webhooks", action="store_true")
    args = parser.parse_args()

    sim = FakeFirecrawl(
        seed=11,
        screenshot_bytes=args.screenshot_bytes,
        allow_local_webhooks=args.allow_local_webhooks,
    )
    sim.add_key(SIM_KEY, credits=None, webhook_secret=args.webhook_secret)
    # Serving first: a document's screenshot URL names the storage listener, so it must be
    # listening before the documents are generated (and warmed).
    url = sim.start()
    ids: dict[str, str] = {}
    started = time.perf_counter()
    wire_bytes = 0
    for spec in json.loads(args.jobs):
        spec = dict(spec)
        name = spec.pop("name")
        job_id = sim.create_batch(SIM_KEY, **spec)
        ids[name] = job_id
        if args.warm:
            job = sim.job(job_id)
            # Every document's wire bytes are generated and cached now, so each contender
            # later reads pages that are only joined from bytes, never generated.
            for position in range(job.completed):
                wire_bytes += len(job.encoded(position)[0])
    info = {
        "url": url,
        "jobs": ids,
        "wire_bytes": wire_bytes,
        "warm_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        command, _, argument = line.strip().partition(" ")
        if command == "log":
            path_end = f"/{argument}"
            log = [
                [round(r.time, 2), r.query.get("skip"), r.status]
                for r in sim.requests
                if r.method == "GET" and r.path.rstrip("/").endswith(path_end)
            ]
            print(json.dumps({"log": log}), flush=True)
        elif command == "clear":
            sim.clear_requests()
            print(json.dumps({"ok": True}), flush=True)
        elif command == "create":
            job_id = sim.create_batch(SIM_KEY, **json.loads(argument))
            print(json.dumps({"id": job_id, "origin": sim.job(job_id).origin}), flush=True)
        elif command == "deliveries":
            outcomes: dict[str, int] = {}
            for delivery in sim.webhook_deliveries:
                if delivery.job_id == argument:
                    outcomes[delivery.outcome] = outcomes.get(delivery.outcome, 0) + 1
            print(json.dumps(outcomes), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    sim.stop()


if __name__ == "__main__":
    main()
