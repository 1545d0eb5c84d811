"""`survey-api bench --scale tiny` runs in the suite (real gunicorn) and produces every figure."""

import json
import sqlite3

import pytest
from click.testing import CliRunner

from survey_api.bench import REQUIRED
from survey_api.bench.district import SCALES, build
from survey_api.cli import main


@pytest.mark.slow
def test_bench_tiny_produces_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        main, ["bench", "--scale", "tiny", "--runs", "2", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(out.read_text())
    assert "push / floor" in result.output and "median of 2 run(s)" in result.output
    missing = {
        key: figures.get(key) for key in REQUIRED if not isinstance(figures.get(key), (int, float))
    }
    assert not missing, (missing, figures.get("notes"))
    assert figures["runs"] == 2
    scale = figures["scale"]
    assert (scale["households"], scale["visits"], scale["problems"]) == (200, 400, 80)
    assert figures["push_applied"] == figures["push_items"]
    assert figures["replay_duplicates"] == figures["push_items"]
    assert figures["pull_initial_records"] > 0
    assert figures["notes"] == []


def test_synthetic_district_is_consistent(tmp_path):
    db = tmp_path / "s.db"
    district = build(str(db), SCALES["tiny"], log=lambda msg: None)
    conn = sqlite3.connect(db)
    assert district.counts == {"households": 200, "visits": 400, "problems": 80}
    for entity, table in (
        ("household", "households"),
        ("visit", "visits"),
        ("problem", "problems"),
    ):
        orphans = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM changes c "
            f"WHERE c.entity = ? AND c.record_id = t.id AND c.seq = t.seq)",
            (entity,),
        ).fetchone()
        assert orphans[0] == 0, table
    # Numbers are gap-free per community and year, and the counter is at the last one.
    for community, year, last in conn.execute("SELECT * FROM problem_counters"):
        numbers = sorted(
            int(n.rsplit("-", 1)[1])
            for (n,) in conn.execute(
                "SELECT number FROM problems WHERE number LIKE ?", (f"{community}-{year}-%",)
            )
        )
        assert numbers == list(range(1, last + 1))
    # Every problem has its report event first and one event per version step.
    bad = conn.execute(
        "SELECT count(*) FROM problems p WHERE p.version != (SELECT count(*) FROM problem_events"
        " e WHERE e.problem_id = p.id)"
    ).fetchone()[0]
    assert bad == 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    if "last_met_at" in {r[1] for r in conn.execute("PRAGMA table_info(households)")}:
        stale = conn.execute(
            "SELECT count(*) FROM households h WHERE h.last_met_at IS NOT (SELECT"
            " max(visited_at_utc) FROM visits v WHERE v.household_id = h.id"
            " AND v.outcome = 'met')"
        ).fetchone()[0]
        assert stale == 0
    statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM problems")}
    assert {"reported", "accepted", "closed", "rejected", "suspended"} <= statuses


@pytest.mark.slow
def test_a_failing_measurement_is_null_with_a_note(monkeypatch):
    from survey_api import bench
    from survey_api.bench import measure

    def broken(*args, **kwargs):
        raise RuntimeError("summary: HTTP 404 not there yet")

    monkeypatch.setattr(measure, "measure_summary", broken)
    result = bench.run("tiny", runs=1, log=lambda msg: None)
    assert result["summary_p50_ms"] is None and result["summary_p95_ms"] is None
    assert any(note.startswith("summary: RuntimeError") for note in result["notes"])
    assert isinstance(result["push_items_per_s"], float)
    assert "n/a" in bench.table(result)
