"""Issue 15's table, measured: every row's figure beside its limit and the ratio, the median of several runs.

Runs each bench script --runs times in a process of its own (each starts the services it needs: scratch
databases, Meilisearch, Redis, `kyoso serve` / `kyoso worker`), collects the figures they write with `--json`,
and prints one line per figure: the median, every run's figure, the limit, the median's ratio to it, and the
highest load average seen (the machine is shared; a ratio measured beside its limit in the same run is what to
read). A script that fails is reported as such and the others still run.

    .venv/bin/python bench/table.py [--runs 3] [--only latency,search_api,...] [--reindex-n 100000]

About 7 minutes a run with the defaults on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Row, read_rows

BENCH = Path(__file__).resolve().parent

# The rows, in its order: the script and its arguments.
SCRIPTS = {
    "latency": ["latency.py", "--samples", "20"],
    "search_api": ["search_api.py", "--via", "http", "--rounds", "30"],
    "assignment": ["assignment.py", "--sizes", "300x5000", "--runs", "3"],
    "pages": ["pages.py"],
    "db_search": ["db_search.py"],
    "reindex": ["reindex.py"],
}


def run_script(name: str, arguments: list[str], log: Path) -> list[Row] | None:
    output = Path(tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".json")[1])
    command = [sys.executable, str(BENCH / arguments[0]), *arguments[1:], "--json", str(output)]
    with log.open("a") as stream:
        stream.write(f"\n$ {' '.join(command)}\n")
        stream.flush()
        finished = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, timeout=3600)
    try:
        return read_rows(output) if finished.returncode == 0 else None
    finally:
        output.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(SCRIPTS)}")
    parser.add_argument("--reindex-n", type=int, default=100_000, choices=[1_000, 10_000, 100_000])
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "kyoso-bench-table.log",
                        help="every script's own output goes there")
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SCRIPTS)
    SCRIPTS["reindex"] = [*SCRIPTS["reindex"], "--n", str(args.reindex_n)]
    args.log.write_text("")

    figures: dict[str, list[Row]] = {}  # what → one row per run
    failures: list[str] = []
    started = time.perf_counter()
    for run in range(1, args.runs + 1):
        for name in chosen:
            print(f"run {run}/{args.runs}: {name} …", file=sys.stderr, flush=True)
            rows = run_script(name, SCRIPTS[name], args.log)
            if rows is None:
                failures.append(f"{name} (run {run})")
                continue
            for row in rows:
                figures.setdefault(row.what, []).append(row)

    print(f"issue 15, {args.runs} run(s), {(time.perf_counter() - started) / 60:.0f} min; each script's output in {args.log}")
    for what, rows in figures.items():
        first = rows[0]
        median = statistics.median(row.figure for row in rows)
        verdict = "met" if Row(what, median, first.unit, first.limit, first.at_most).met else "NOT MET"
        sign = "≤" if first.at_most else "≥"
        runs = ", ".join(f"{row.figure:.3g}" for row in rows)
        print(f"  {what}\n      median {median:.3g} {first.unit} (runs: {runs})   limit {sign} {first.limit:g} {first.unit}"
              f"   ratio {median / first.limit:.2f}   {verdict}   load ≤ {max(row.load for row in rows):.1f}")
    for failure in failures:
        print(f"  FAILED: {failure} — see {args.log}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
