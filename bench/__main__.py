"""Run the benchmarks: `python -m bench` (all of them, full sizes, writes docs/PERFORMANCE.md).

    python -m bench --quick              tiny sizes, SQLite only; prints the tables, writes nothing
    python -m bench --only ingest,poll   a subset (ingest, browse, download, poll, dashboard,
                                         screenshots, fairness, webhooks, api,
                                         scaleout)
    python -m bench --db sqlite          skip PostgreSQL (default: both when one answers)
    python -m bench --out FILE           write the report there instead
    python -m bench --large              one job of 100,000 documents (5 GB), both databases:
                                         docs/PERFORMANCE-LARGE.md (an hour; not run in CI)

PostgreSQL is the server at BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:55432/
postgres); every scenario gets its own scratch database there or in a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import common, report, scenarios

ALL = [
    "ingest",
    "browse",
    "download",
    "poll",
    "dashboard",
    "screenshots",
    "fairness",
    "webhooks",
    "api",
    "scaleout",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--db", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--large", action="store_true", help="one job of 100,000 documents")
    parser.add_argument("--large-docs", type=int, default=100_000, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    if args.large:
        only = ["large"]
    unknown = set(only) - {*ALL, "large"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if {"download", "api"} & set(only) and "ingest" not in only:
        only.insert(0, "ingest")  # the zip and the API read the jobs the ingest cached
    sizes = scenarios.QUICK if args.quick else scenarios.FULL
    pg_version = common.postgres_available()
    if args.db:
        vendors = [v.strip() for v in args.db.split(",") if v.strip()]
    else:
        vendors = ["sqlite"] if args.quick or pg_version is None else ["sqlite", "postgresql"]
    if "postgresql" in vendors and pg_version is None:
        parser.error("PostgreSQL is not reachable at BENCH_POSTGRES_URL")
    profile = not args.no_profile and not args.quick

    started = time.perf_counter()
    machine = report.machine_info(pg_version)
    ws = scenarios.Workspace(Path(tempfile.mkdtemp(prefix="bench-")))
    sections: list[scenarios.Section] = []
    try:
        ingest = None
        for name in [*ALL, "large"]:
            if name not in only:
                continue
            print(f"== {name}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            # The machine is shared: what else ran as each section started, beside its numbers.
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            if name == "ingest":
                ingest = scenarios.ingest(ws, sizes, vendors, profile)
                section = ingest
            elif name == "download":
                assert ingest is not None
                section = scenarios.download(ws, sizes, ingest, profile)
            elif name == "browse":
                section = scenarios.browse(ws, sizes, vendors)
            elif name == "api":
                assert ingest is not None
                section = scenarios.api(ws, sizes, ingest, vendors)
            elif name == "poll":
                section = scenarios.poll(ws, sizes)
            elif name == "fairness":
                section = scenarios.fairness(ws, sizes, vendors)
            elif name == "webhooks":
                section = scenarios.webhooks(ws, sizes)
            elif name == "large":
                section = scenarios.large(
                    ws, vendors, docs=args.large_docs, base=args.large_docs // 10
                )
            elif name == "screenshots":
                section = scenarios.screenshots(ws, sizes, vendors)
            elif name == "scaleout":
                section = scenarios.scaleout(ws, sizes, vendors)
            else:
                section = scenarios.dashboard(ws, sizes, vendors)
            section.data["seconds"] = time.perf_counter() - t0
            section.notes.append(f"Load average at the start of this section: {load}.")
            sections.append(section)
            print(report.table(section), file=sys.stderr, flush=True)
    finally:
        ws.cleanup()
    elapsed = time.perf_counter() - started
    command = "make bench" + (
        " ARGS=--quick" if args.quick else " ARGS=--large" if args.large else ""
    )
    if argv is None and len(sys.argv) > 1 and not args.quick:
        command = "python -m bench " + " ".join(sys.argv[1:])
    text = report.document(
        sections, machine, command, elapsed, quick=args.quick, findings=not args.large
    )
    print(text)
    name = "PERFORMANCE-LARGE.md" if args.large else "PERFORMANCE.md"
    out = args.out or ("" if args.quick else str(common.REPO / "docs" / name))
    if out:
        Path(out).write_text(text)
        print(f"Written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
