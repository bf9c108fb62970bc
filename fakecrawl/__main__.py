"""Run the Firecrawl simulator by hand: `python -m fakecrawl --port 3002 --key fc-demo --demo`.

The hosted service by default; `--self-hosted` is a self-hosted server without its database (its
activity listing answers 500, screenshots come inline). Webhooks: `--webhook-url` is the
server-wide SELF_HOSTED_WEBHOOK_URL (`{{JOB_ID}}` is replaced), `--webhook-secret` its
SELF_HOSTED_WEBHOOK_HMAC_SECRET, `--team-webhook-secret` the keys' team secret (hosted), and
`--allow-local-webhooks` lets them reach a dashboard on loopback. Screenshots are served from a
second port (`--storage-port`), printed on start.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from fakecrawl.server import FakeFirecrawl


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="fakecrawl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3002)
    parser.add_argument("--key", action="append", default=[], help="accepted API key (repeatable)")
    parser.add_argument("--mode", choices=("2025", "2026"), default="2026")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--self-hosted",
        action="store_true",
        help="a self-hosted server without its database: GET /v2/team/activity answers 500, "
        "credit usage 500, screenshots inline as data: URIs",
    )
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
        choices=("on", "off"),
        default=None,
        help="whether GET /v2/team/activity exists (off: a 404; default: on for 2026); it "
        "answers 500 with --self-hosted",
    )
    parser.add_argument(
        "--no-active-crawls", action="store_true", help="no GET /v{1,2}/crawl/active route"
    )
    parser.add_argument(
        "--no-idempotency-db",
        action="store_true",
        help="self-hosted without a database: a UUID x-idempotency-key makes POST answer 500",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds every API request waits first"
    )
    webhooks = parser.add_argument_group("webhooks")
    webhooks.add_argument(
        "--webhook-url", help="SELF_HOSTED_WEBHOOK_URL: gets every job's page events"
    )
    webhooks.add_argument("--webhook-secret", help="SELF_HOSTED_WEBHOOK_HMAC_SECRET")
    webhooks.add_argument(
        "--team-webhook-secret", help="the keys' team secret (hosted): signs per-job webhooks"
    )
    webhooks.add_argument(
        "--allow-local-webhooks",
        action="store_true",
        help="ALLOW_LOCAL_WEBHOOKS: deliver to loopback and private addresses",
    )
    webhooks.add_argument(
        "--webhook-drop", type=float, default=0.0, help="share of deliveries never sent (0-1)"
    )
    shots = parser.add_argument_group("screenshots")
    shots.add_argument(
        "--screenshots",
        choices=("storage", "inline", "none"),
        default=None,
        help="URLs on the storage port, data: URIs, or none (a server without fire-engine); "
        "default: inline when --self-hosted",
    )
    shots.add_argument("--screenshot-bytes", type=int, default=20_000, help="size of each PNG")
    shots.add_argument("--storage-port", type=int, default=0, help="the storage's port (0: any)")
    shots.add_argument("--storage-host", default=None, help="host name in screenshot URLs")
    parser.add_argument("--demo", action="store_true", help="create a few jobs for the first key")
    args = parser.parse_args(argv)

    sim = FakeFirecrawl(
        seed=args.seed,
        mode=args.mode,
        self_hosted=args.self_hosted,
        settle_seconds=args.settle,
        cancel_settle_seconds=args.cancel_settle,
        cancel_in_flight=args.cancel_in_flight,
        completed_lag=args.completed_lag,
        post_rate=args.post_rate,
        crawl_kickoff_seconds=args.crawl_kickoff,
        activity={"on": True, "off": False, None: None}[args.activity],
        active_crawls=not args.no_active_crawls,
        idempotency_db=False if args.no_idempotency_db else None,
        latency=args.latency,
        self_hosted_webhook_url=args.webhook_url,
        self_hosted_webhook_secret=args.webhook_secret,
        allow_local_webhooks=args.allow_local_webhooks,
        webhook_drop=args.webhook_drop,
        screenshots=args.screenshots,
        screenshot_bytes=args.screenshot_bytes,
        storage_host=args.storage_host,
    )
    keys = args.key or ["fc-demo"]
    for key in keys:
        sim.add_key(key, webhook_secret=args.team_webhook_secret)
    url = sim.start(args.host, args.port, storage_port=args.storage_port)
    if args.demo:
        key = keys[0]
        jobs = {
            "completed, 50 docs": sim.create_batch(key, n=50, state="completed"),
            "running, 300 docs at 2/s": sim.create_batch(key, n=300, rate=2.0),
            "with failures (every 7th)": sim.create_batch(key, n=120, rate=5.0, fail_every=7),
            "large, 2,000 docs": sim.create_batch(key, n=2000, state="completed", doc_size=8000),
            "hostile content": sim.create_batch(key, n=30, hostile=True, state="completed"),
            "with screenshots, 20 docs": sim.create_batch(
                key, n=20, state="completed", formats=("markdown", "screenshot")
            ),
            "crawl of docs.example.test, 40 pages at 1/s": sim.create_crawl(key, rate=1.0),
        }
        for label, job_id in jobs.items():
            print(f"{job_id}  {label}", flush=True)
    print(
        f"fakecrawl ({args.mode}{', self-hosted' if args.self_hosted else ''}) serving on {url}, "
        f"keys: {', '.join(keys)}, screenshots on {sim.storage_url}",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    sim.stop()


if __name__ == "__main__":
    main()
