"""The benchmark's one table and its targets (issue 6)."""

# key, label, unit, target (comparison, value) or None, format
ROWS = [
    ("push_items_per_s", "push (4 clients, 500-item batches)", "items/s", None, ",.0f"),
    ("replay_items_per_s", "replay (every item a duplicate)", "items/s", None, ",.0f"),
    ("replay_same_key_items_per_s", "replay, same Idempotency-Key", "items/s", None, ",.0f"),
    ("floor_items_per_s", "floor (marshmallow + executemany)", "items/s", None, ",.0f"),
    ("push_over_floor", "push / floor", "ratio", (">=", 1.0), ".2f"),
    ("push_records_per_s", "push records (hh + visit + 30% problem)", "records/s", None, ",.0f"),
    ("pull_initial_ms", "grid worker initial pull", "ms", ("<", 150), ",.0f"),
    ("pull_initial_records", "  records in it", "records", None, ",.0f"),
    ("pull_initial_records_per_s", "  records/s", "records/s", None, ",.0f"),
    ("pull_incremental_ms", "incremental pull", "ms", None, ",.1f"),
    ("summary_p50_ms", "district summary p50", "ms", ("<", 300), ",.0f"),
    ("summary_p95_ms", "district summary p95", "ms", None, ",.0f"),
    ("console_queue_ms", "console problem queue p50 (1st page)", "ms", ("<", 150), ",.0f"),
    ("console_queue_p95_ms", "  p95", "ms", None, ",.0f"),
    ("console_queue_problems", "  problems in the community", "problems", None, ",.0f"),
    ("console_dashboard_ms", "console: district dashboard p50", "ms", ("<", 300), ",.0f"),
    ("console_dashboard_p95_ms", "  its p95", "ms", None, ",.0f"),
    ("export_csv_rows_per_s", "export CSV (both lists)", "rows/s", (">=", 100_000), ",.0f"),
    ("export_xlsx_rows_per_s", "export XLSX (both lists)", "rows/s", (">=", 15_000), ",.0f"),
    ("export_problem_list_rows", "  problem list rows", "rows", None, ",.0f"),
    ("export_rectification_list_rows", "  rectification list rows", "rows", None, ",.0f"),
    ("export_peak_rss_mb", "export peak RSS (worker)", "MiB", None, ",.1f"),
    ("export_rss_growth_mb", "  growth during the exports", "MiB", None, ",.1f"),
    ("export_small_list_peak_rss_mb", "  same, ordinary community", "MiB", None, ",.1f"),
    ("export_small_list_rows", "  its rows (both lists)", "rows", None, ",.0f"),
]


def meets(value, target):
    if value is None or target is None:
        return None
    op, limit = target
    return value >= limit if op == ">=" else value < limit


def table(result):
    """The printed table: figure, value, unit, target, verdict."""
    scale = result["scale"]
    lines = [
        f"survey-api bench — scale {scale['name']}: {scale['households']:,} households, "
        f"{scale['visits']:,} visits, {scale['problems']:,} problems; "
        f"median of {result['runs']} run(s); {result['workers']} gunicorn workers",
        f"{'figure':<38} {'value':>12} {'unit':<10} {'target':<10} ok",
        "-" * 76,
    ]
    for key, label, unit, target, fmt in ROWS:
        value = result.get(key)
        shown = "n/a" if value is None else format(value, fmt)
        tgt = f"{target[0]} {target[1]:,}" if target else ""
        ok = meets(value, target)
        verdict = "" if ok is None else ("yes" if ok else "NO")
        lines.append(f"{label:<38} {shown:>12} {unit:<10} {tgt:<10} {verdict}")
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    lines.append(f"build {result['build_s']:.1f}s, measurements {result['measure_s']:.1f}s")
    return "\n".join(lines)
