"""Every bench/*.py, run three ways (each a make target):

python -m notify_dev.bench_suite smoke      make bench-smoke: each bench at a small size; fails when one
                                            fails or does not print its JSON line last (CI runs it)
python -m notify_dev.bench_suite record     make bench: each at full size, its JSON line written to
                                            bench/results/<name>.json with the date, commit and machine
python -m notify_dev.bench_suite table      make bench-table: the README's figures table, from those files
                                            (--check: fail when the README's table differs from them)

A bench is found by its file: a new bench/*.py without an entry in BENCHES fails the smoke run, so
none can be added without a small size that CI runs. A bench that needs what the machine lacks prints
`{"bench": name, "skipped": why}` as its JSON line, which the smoke run accepts and `record` does not
write. The smoke run proves that the benches run, never their figures: no threshold is checked here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notify_dev.endpoints import ROOT

BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
README = ROOT / "README.md"
TABLE_START = "<!-- bench-table:start (make bench-table writes this table from bench/results/) -->"
TABLE_END = "<!-- bench-table:end -->"


@dataclass(frozen=True)
class Bench:
    name: str
    smoke_args: tuple[str, ...]  # small enough that the whole smoke run stays under about 5 minutes
    headline: tuple[str, ...]  # the JSON keys the README's table shows
    target: str


BENCHES = {
    bench.name: bench
    for bench in (
        Bench(
            "fanout",
            ("--recipients", "2000", "--repeat", "1"),
            ("recipients", "rate_per_s", "copy_rate_per_s", "ratio"),
            "ratio ≥ 0.3 (goal 0.5)",
        ),
        Bench(
            "audience",
            ("--recipients", "20000", "--repeat", "1"),
            ("recipients", "accept_s", "rate_per_s", "copy_rate_per_s", "ratio", "peak_rss_mb"),
            "accept_s ≤ 1.0, ratio ≥ 0.3 (goal 0.5), peak_rss_mb ≤ 512",
        ),
        Bench(
            "tick",
            ("--schedules", "5000", "--due", "100", "--repeat", "1"),
            ("schedules", "due", "tick_s", "tick_small_s", "scaling_ratio", "speedup_vs_naive"),
            "scaling_ratio ≤ 2, speedup_vs_naive ≥ 100",
        ),
        Bench(
            "workflows",
            ("--waiting", "20000", "--due", "100", "--repeat", "1"),
            ("waiting", "due", "advance_s", "advance_small_s", "scaling_ratio"),
            "scaling_ratio ≤ 2",
        ),
        Bench(
            "controls",
            ("--notifications", "2000", "--suppressions", "200", "--repeat", "1"),
            ("notifications", "rate_per_s", "baseline_rate_per_s", "ratio", "suppression_cost"),
            "suppression_cost ≤ 0.10",
        ),
        Bench(
            "delivery",
            (
                "--recipients",
                "100",
                "--ceiling",
                "40",
                "--env-recipients",
                "500",
                "--repeat",
                "1",
                "--grace",
                "2",
            ),
            (
                "recipients",
                "rate_per_s",
                "same_work_ceiling_per_s",
                "raw_ceiling_per_s",
                "ratio",
                "raw_ratio",
                "lost",
                "duplicates",
                "env_ratio",
                "at_once_gain",
            ),
            "ratio ≥ 0.8, raw_ratio ≥ 0.5, lost 0, duplicates 0, env_ratio ≥ 0.6",
        ),
        Bench(
            "priority",
            ("--backlog", "100", "--events", "3", "--spacing", "0.2", "--timeout", "300"),
            ("backlog", "probe_rate_per_s", "idle_p50_s", "p50_s", "p99_s", "isolation_ratio"),
            "idle_p50_s ≤ 1.0, isolation_ratio ≤ 1.5",
        ),
        Bench(
            "auth",
            ("--requests", "5", "--warmup", "1"),
            ("requests", "open_p50_ms", "key_p50_ms", "limited_p50_ms", "ratio", "limited_ratio"),
            "ratio ≤ 1.15",
        ),
        Bench(
            "ingest",
            ("--rounds", "1", "--window", "1", "--warmup", "0.5", "--users", "20", "--drain", "60"),
            (
                "single_per_s",
                "batch_per_s",
                "ceiling_requests_per_s",
                "single_ratio",
                "batch_speedup",
                "p50_ms",
                "p99_ms",
            ),
            "single_ratio ≥ 0.5, batch_speedup ≥ 10 (goal 20)",
        ),
    )
}


@dataclass(frozen=True)
class Outcome:
    name: str
    seconds: float
    result: dict[str, Any] | None  # the JSON line, when the bench printed one last
    problem: str | None  # why this run failed, or None


def discovered(bench_dir: Path = BENCH_DIR) -> list[str]:
    return sorted(path.stem for path in bench_dir.glob("*.py") if not path.stem.startswith("_"))


def last_json_line(output: str, name: str) -> dict[str, Any] | None:
    """The bench's JSON line: its last non-empty line, an object naming this bench."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        parsed = json.loads(lines[-1])
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and parsed.get("bench") == name else None


def run_bench(name: str, args: Sequence[str], bench_dir: Path, timeout: float) -> Outcome:
    """One bench in a process of its own, its output passed through as it comes."""
    command = [sys.executable, str(bench_dir / f"{name}.py"), *args]
    print(f"== bench {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    lines: list[str] = []
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env
    ) as process:
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            for line in process.stdout:
                print(f"  {line}", end="", flush=True)
                lines.append(line)
            code = process.wait()
        finally:
            watchdog.cancel()
    seconds = time.monotonic() - started
    result = last_json_line("".join(lines), name)
    if seconds >= timeout:
        return Outcome(name, seconds, result, f"killed after {timeout:.0f} s")
    if code != 0:
        return Outcome(name, seconds, result, f"exit status {code}")
    if result is None:
        return Outcome(name, seconds, None, 'its last line is not a JSON object with "bench": its name')
    return Outcome(name, seconds, result, None)


def smoke(bench_dir: Path = BENCH_DIR, benches: Mapping[str, Bench] = BENCHES, timeout: float = 240) -> int:
    outcomes = []
    for name in discovered(bench_dir):
        bench = benches.get(name)
        if bench is None:
            outcomes.append(
                Outcome(name, 0.0, None, "no smoke size: add it to notify_dev.bench_suite.BENCHES")
            )
            continue
        outcomes.append(run_bench(name, bench.smoke_args, bench_dir, timeout))
    for outcome in outcomes:
        skipped = (outcome.result or {}).get("skipped")
        verdict = outcome.problem or (f"skipped: {skipped}" if skipped else "JSON line printed")
        print(f"bench-smoke: {outcome.name}: {verdict} ({outcome.seconds:.0f} s)")
    failed = [outcome.name for outcome in outcomes if outcome.problem]
    total = sum(outcome.seconds for outcome in outcomes)
    print(json.dumps({"bench-smoke": len(outcomes), "failed": failed, "seconds": round(total)}))
    return 1 if failed else 0


def machine() -> str:
    memory_kb = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory_kb = int(meminfo.readline().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores, {memory_kb / 1024**2:.0f} GiB"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head}+changes" if git("status", "--porcelain", "--untracked-files=no") else head


def record(names: Sequence[str], extra_args: Sequence[str], results_dir: Path = RESULTS_DIR) -> int:
    """make bench: every bench (or `names`) at full size; each JSON line into results_dir/<name>.json."""
    results_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in names or discovered():
        outcome = run_bench(name, extra_args, BENCH_DIR, timeout=3600)
        if outcome.problem or outcome.result is None or "skipped" in outcome.result:
            failed.append(name)
            print(f"bench: {name}: not recorded ({outcome.problem or 'skipped'})")
            continue
        entry = {
            "bench": name,
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "commit": commit(),
            "machine": machine(),
            "args": list(extra_args),
            "seconds": round(outcome.seconds),
            "result": outcome.result,
        }
        (results_dir / f"{name}.json").write_text(json.dumps(entry, indent=2, ensure_ascii=False) + "\n")
        print(f"bench: {name}: written to {(results_dir / f'{name}.json').relative_to(ROOT)}")
    return 1 if failed else 0


def _figure(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_table(results_dir: Path = RESULTS_DIR) -> str:
    rows = [
        "| bench | figures (its JSON line) | target | measured |",
        "| --- | --- | --- | --- |",
    ]
    machines = set()
    for name, bench in sorted(BENCHES.items()):
        path = results_dir / f"{name}.json"
        if not path.exists():
            rows.append(f"| `bench/{name}.py` | not measured yet (`make bench-{name}`) | {bench.target} | |")
            continue
        entry = json.loads(path.read_text())
        result = entry["result"]
        figures = ", ".join(f"{key} {_figure(result[key])}" for key in bench.headline if key in result)
        args = f" `{' '.join(entry['args'])}`" if entry.get("args") else ""
        rows.append(
            f"| `bench/{name}.py`{args} | {figures} | {bench.target} | {entry['date']}, {entry['commit']} |"
        )
        machines.add(entry["machine"])
    where = "; ".join(sorted(machines)) or "none yet"
    return "\n".join([TABLE_START, f"Measured on: {where}.", "", *rows, TABLE_END])


def table(check: bool, readme: Path = README, results_dir: Path = RESULTS_DIR) -> int:
    text = readme.read_text()
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        print(f"{readme.name} has no bench table markers ({TABLE_START!r} … {TABLE_END!r})")
        return 1
    updated = text[:start] + render_table(results_dir) + text[end + len(TABLE_END) :]
    if check:
        if updated != text:
            print(f"{readme.name}'s bench table differs from bench/results/: run make bench-table")
            return 1
        return 0
    readme.write_text(updated)
    print(f"{readme.name}: bench table written from {results_dir.relative_to(ROOT)}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("smoke", help="each bench at a small size; fails when one prints no JSON line")
    record_parser = commands.add_parser("record", help="each bench at full size, into bench/results/")
    record_parser.add_argument("names", nargs="*", help="benches to run (default: all of bench/)")
    record_parser.add_argument("--args", default="", help="extra arguments for each bench")
    table_parser = commands.add_parser("table", help="the README's figures table from bench/results/")
    table_parser.add_argument("--check", action="store_true", help="only compare; exit 1 when it differs")
    args = parser.parse_args(argv)
    if args.command == "smoke":
        return smoke()
    if args.command == "record":
        return record(args.names, args.args.split())
    return table(args.check)


if __name__ == "__main__":
    sys.exit(main())
