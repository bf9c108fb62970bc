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
    parser.add_argument("--post-rate", type=float, default=4.0, help="docs/s of POSTed jobs")
    parser.add_argument("--demo", action="store_true", help="create a few jobs for the first key")
    args = parser.parse_args(argv)

    sim = FakeFirecrawl(seed=args.seed, mode=args.mode, settle_seconds=args.settle)
    sim.post_rate = args.post_rate
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
