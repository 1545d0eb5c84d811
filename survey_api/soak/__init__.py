"""`survey-api soak`: the reliability figures of DESIGN §12, measured on a real gunicorn.

kill_cycles.py kills the server around pushes, load.py runs the concurrency load and the
backup under it, ledger.py holds what the clients saw acknowledged and checks the database
against it, server.py and zygote.py start gunicorn (fast restarts), district.py makes the
soak's own instance. Everything runs in a temporary folder, on 127.0.0.1 only.
"""

import json
import os
import platform
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime

from . import kill_cycles, load
from .district import create as create_instance
from .server import Zygote

# The figures that count failures, per part: every one must be 0.
FAILURES = {
    "kill_cycles": (
        "lost",
        "duplicated",
        "torn_batches",
        "integrity_failures",
        "replay_failures",
        "replay_mismatches",
        "unexpected_results",
        "stuck_keys",
    ),
    "concurrency": (
        "lock_errors",
        "lock_errors_log",
        "http_5xx",
        "tracebacks_log",
        "worker_timeouts_log",
        "connection_errors",
        "lost",
        "pull_missing",
        "duplicated",
        "unexpected_results",
        "stuck_keys",
        "integrity_failures",
    ),
    "backup": ("backup_failures", "integrity_failures", "missing", "restore_login_failures"),
}


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), ""
            )
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def run(cycles=1000, minutes=10.0, seed=None, keep=None, cold=False, log=print):
    """Run the parts asked for; returns the result dict (see FAILURES for what must be 0)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    folder = keep or tempfile.mkdtemp(prefix="survey-soak-")
    os.makedirs(folder, exist_ok=True)
    if os.listdir(folder):
        raise RuntimeError(f"{folder} is not empty; give an empty folder")
    result = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "cycles_asked": cycles,
        "minutes_asked": minutes,
        "machine": machine(),
        "restarts": "cold (python -m gunicorn)" if cold else "forked from a warm zygote",
    }
    started = time.monotonic()
    zygote = None if cold else Zygote(folder)
    try:
        if cycles:
            log(f"kill_cycles: {cycles} cycles in {folder}/kill (seed {seed}) …")
            path = os.path.join(folder, "kill")
            result["kill_cycles"] = kill_cycles.run(path, cycles, random.Random(seed), zygote, log)
        if minutes:
            log(
                f"concurrency: {minutes:g} min, 8 phones on {load.WORKERS} workers, "
                f"a secretary exporting, a district admin reading summaries …"
            )
            path = os.path.join(folder, "load")
            create_instance(path)
            result["concurrency"], result["backup"] = load.run(
                path, minutes, lambda n: random.Random(seed * 1000 + n), zygote, log
            )
    finally:
        if zygote is not None:
            zygote.close()
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["failures"] = failures(result)
    return result


def failures(result):
    """Sum of every failure count that was measured."""
    return sum(
        result[part].get(key) or 0
        for part, keys in FAILURES.items()
        if part in result
        for key in keys
    )


def table(result):
    """The printed table: part, figure, value, and a mark on failure counts."""
    m = result["machine"]
    lines = [
        f"survey-api soak — {result['started_at']}, {m['nproc']} CPUs ({m['cpu']}), "
        f"load {m['load_avg'][0]:.1f} → {m['load_avg_end'][0]:.1f}; "
        f"seed {result['seed']}; restarts {result['restarts']}",
        f"{'part':<12} {'figure':<30} {'value':>12}  must be 0",
        "-" * 66,
    ]
    for part in ("kill_cycles", "concurrency", "backup"):
        if part not in result:
            continue
        label = part
        for key, value in result[part].items():
            if isinstance(value, dict):
                continue
            counted = key in FAILURES[part]
            mark = ("ok" if not value else "FAIL") if counted else ""
            shown = (
                "n/a" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value}")
            )
            lines.append(f"{label:<12} {key:<30} {shown:>12}  {mark}")
            label = ""
    lines.append("-" * 66)
    verdict = "PASS" if result["failures"] == 0 else f"FAIL ({result['failures']} failures)"
    lines.append(f"{verdict} in {result['elapsed_s']:.0f}s")
    return "\n".join(lines)


def write_json(result, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
        f.write("\n")


__all__ = ["FAILURES", "failures", "run", "table", "write_json"]
