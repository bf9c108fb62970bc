"""Run the benchmarks: `python -m bench` (all five, full sizes, writes docs/PERFORMANCE.md).

    python -m bench --quick              tiny sizes, SQLite only; prints the tables, writes nothing
    python -m bench --only ingest,poll   a subset (ingest, browse, download, poll, dashboard)
    python -m bench --db sqlite          skip PostgreSQL (default: both when one answers)
    python -m bench --out FILE           write the report there instead

PostgreSQL is the server at BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:55432/
postgres); every scenario gets its own scratch database there or in a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench import common, report, scenarios

ALL = ["ingest", "browse", "download", "poll", "dashboard"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
    parser.add_argument("--only", default=",".join(ALL))
    parser.add_argument("--db", default="")
    parser.add_argument("--out", default="")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(only) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if "download" in only and "ingest" not in only:
        only.insert(0, "ingest")  # the zip is made of the jobs the ingest cached
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
        for name in ALL:
            if name not in only:
                continue
            print(f"== {name}", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            if name == "ingest":
                ingest = scenarios.ingest(ws, sizes, vendors, profile)
                section = ingest
            elif name == "download":
                assert ingest is not None
                section = scenarios.download(ws, sizes, ingest, profile)
            elif name == "browse":
                section = scenarios.browse(ws, sizes, vendors)
            elif name == "poll":
                section = scenarios.poll(ws, sizes)
            else:
                section = scenarios.dashboard(ws, sizes, vendors)
            section.data["seconds"] = time.perf_counter() - t0
            sections.append(section)
            print(report.table(section), file=sys.stderr, flush=True)
    finally:
        ws.cleanup()
    elapsed = time.perf_counter() - started
    command = "make bench" + (" ARGS=--quick" if args.quick else "")
    if argv is None and len(sys.argv) > 1 and not args.quick:
        command = "python -m bench " + " ".join(sys.argv[1:])
    text = report.document(sections, machine, command, elapsed, quick=args.quick)
    print(text)
    out = args.out or ("" if args.quick else str(common.REPO / "docs" / "PERFORMANCE.md"))
    if out:
        Path(out).write_text(text)
        print(f"Written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
