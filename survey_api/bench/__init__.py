"""`survey-api bench`: build a synthetic district, serve it with gunicorn, measure (DESIGN §9).

district.py builds the data with bulk SQL, server.py runs gunicorn, measure.py holds each
measurement, report.py the table. A figure whose endpoint fails is reported as null with a note.
"""

import json
import os
import random
import shutil
import statistics
import tempfile
import time

from . import measure
from .district import SCALES, build
from .report import table
from .server import Gunicorn

# Every figure the JSON must carry (DESIGN §9), besides runs and scale.
REQUIRED = (
    "push_items_per_s",
    "replay_items_per_s",
    "floor_items_per_s",
    "push_over_floor",
    "pull_initial_ms",
    "pull_initial_records",
    "pull_incremental_ms",
    "summary_p50_ms",
    "summary_p95_ms",
    "export_csv_rows_per_s",
    "export_xlsx_rows_per_s",
    "export_peak_rss_mb",
    "console_queue_ms",
    "console_dashboard_ms",
)


def run(scale_name="full", runs=3, workers=None, keep=None, log=print):
    """Build, serve, measure `runs` times; returns the result dict (medians)."""
    scale = SCALES[scale_name]
    workers = workers or max(2, os.cpu_count() or 2)
    folder = keep or tempfile.mkdtemp(prefix="survey-bench-")
    os.makedirs(folder, exist_ok=True)
    db_path = os.path.join(folder, "survey.db")
    if os.path.exists(db_path):
        raise RuntimeError(f"{db_path} exists; give an empty folder")
    try:
        started = time.perf_counter()
        log(f"Building the {scale_name} district in {folder} …")
        district = build(db_path, scale, log=log)
        build_s = time.perf_counter() - started
        per_run, notes = [], []
        started = time.perf_counter()
        with Gunicorn(folder, workers=workers) as server:
            for i in range(runs):
                log(f"Run {i + 1}/{runs} …")
                per_run.append(_one_run(server, district, scale, db_path, i, notes))
        measure_s = time.perf_counter() - started
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    result = _medians(per_run)
    for key in REQUIRED:
        result.setdefault(key, None)
    result.update(
        runs=runs,
        workers=workers,
        build_s=build_s,
        measure_s=measure_s,
        scale={"name": scale_name, **district.counts},
        notes=list(dict.fromkeys(notes)),
    )
    return result


def _one_run(server, district, scale, db_path, index, notes):
    rng = random.Random(1000 + index)
    figures = {}

    def attempt(name, fn):
        try:
            out, extra_notes = fn()
        except Exception as e:  # a missing or failing endpoint: report null, keep going
            notes.append(f"{name}: {type(e).__name__}: {str(e)[:200]}")
            return
        figures.update(out)
        notes.extend(extra_notes)

    plan = measure.push_plan(district, scale, rng)
    attempt("push", lambda: measure.measure_push(server.base, district, plan))
    attempt("floor", lambda: (measure.measure_floor(db_path, plan, district), []))
    attempt("push records", lambda: measure.measure_push_records(server.base, district, scale, rng))
    if figures.get("push_items_per_s") and figures.get("floor_items_per_s"):
        # The ratio within one run: the machine is noisy, runs differ more than the two do.
        figures["push_over_floor"] = figures["push_items_per_s"] / figures["floor_items_per_s"]
    attempt("pull", lambda: (measure.measure_pull(server.base, district, rng), []))
    attempt(
        "summary",
        lambda: (measure.measure_summary(server.base, district, scale.summary_requests), []),
    )
    attempt(
        "console",
        lambda: (measure.measure_console_queue(server.base, district, scale.summary_requests), []),
    )
    attempt(
        "console_dashboard",
        lambda: (
            measure.measure_console_dashboard(server.base, district, scale.summary_requests),
            [],
        ),
    )
    attempt("exports", lambda: (measure.measure_exports(server.base, district, server), []))
    return figures


def _medians(per_run):
    """Median of each number over the runs; a flag is true only if it held in every run."""
    keys = dict.fromkeys(k for run in per_run for k in run)
    out = {}
    for key in keys:
        values = [run[key] for run in per_run if run.get(key) is not None]
        if values and all(isinstance(v, bool) for v in values):
            out[key] = all(values)
        elif values:
            out[key] = statistics.median(values)
        else:
            out[key] = None
    return out


def write_json(result, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
        f.write("\n")


__all__ = ["SCALES", "run", "table", "write_json"]
