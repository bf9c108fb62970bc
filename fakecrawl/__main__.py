"""Run the Firecrawl simulator by hand: `python -m fakecrawl --port 3002 --key fc-demo --demo`."""

from __future__ import annotations

import argparse
import contextlib
import threading

from fakecrawl.server import FakeFirecrawl


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fakecrawl", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3002)
    parser.add_argument("--key", action="append", default=[], help="accepted API key (repeatable)")
    parser.add_argument("--mode", choices=("2025", "2026"), default="2026")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds 'scraping' at 100%%")
    parser.add_argument(
        "--cancel-settle",
        type=float,
        default=None,
        help="seconds over which a cancel fails the unfinished URLs (default: --settle)",
    )
    parser.add_argument(
        "--cancel-in-flight", type=int, default=0, help="URLs that still finish after a cancel"
    )
    parser.add_argument(
        "--completed-lag", type=int, default=0, help="how far 'completed' trails 'data'"
    )
    parser.add_argument("--post-rate", type=float, default=4.0, help="docs/s of POSTed jobs")
    parser.add_argument(
        "--crawl-kickoff", type=float, default=0.0, help="seconds a POSTed crawl shows 0 of 0"
    )
    parser.add_argument(
        "--activity",
        choices=("on", "off", "no-clickhouse"),
        default=None,
        help="GET /v2/team/activity: served, absent (404), or 501 (default: on for 2026)",
    )
    parser.add_argument(
        "--no-active-crawls", action="store_true", help="no GET /v{1,2}/crawl/active route"
    )
    parser.add_argument(
        "--no-idempotency-db",
        action="store_true",
        help="self-hosted without a database: a UUID x-idempotency-key makes POST answer 500",
    )
    parser.add_argument("--demo", action="store_true", help="create a few jobs for the first key")
    args = parser.parse_args(argv)

    activity = {"on": True, "off": False, "no-clickhouse": "no-clickhouse", None: None}
    sim = FakeFirecrawl(
        seed=args.seed,
        mode=args.mode,
        settle_seconds=args.settle,
        cancel_settle_seconds=args.cancel_settle,
        cancel_in_flight=args.cancel_in_flight,
        completed_lag=args.completed_lag,
        post_rate=args.post_rate,
        crawl_kickoff_seconds=args.crawl_kickoff,
        activity=activity[args.activity],
        active_crawls=not args.no_active_crawls,
        idempotency_db=not args.no_idempotency_db,
    )
    keys = args.key or ["fc-demo"]
    for key in keys:
        sim.add_key(key)
    if args.demo:
        key = keys[0]
        jobs = {
            "completed, 50 docs": sim.create_batch(key, n=50, state="completed"),
            "running, 300 docs at 2/s": sim.create_batch(key, n=300, rate=2.0),
            "with failures (every 7th)": sim.create_batch(key, n=120, rate=5.0, fail_every=7),
            "large, 2,000 docs": sim.create_batch(key, n=2000, state="completed", doc_size=8000),
            "hostile content": sim.create_batch(key, n=30, hostile=True, state="completed"),
            "crawl of docs.example.test, 40 pages at 1/s": sim.create_crawl(key, rate=1.0),
        }
        for label, job_id in jobs.items():
            print(f"{job_id}  {label}", flush=True)
    url = sim.start(args.host, args.port)
    print(f"fakecrawl ({args.mode}) serving on {url}, keys: {', '.join(keys)}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    sim.stop()


if __name__ == "__main__":
    main()
