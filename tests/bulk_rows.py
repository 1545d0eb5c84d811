"""Bulk synthetic rows for export and roll-up measurements (raw executemany, one transaction)."""

import json
import random
import uuid

from survey_api.db import connect, write_tx
from survey_api.timeutil import now_iso

CATEGORIES = [
    "safety.fire",
    "safety.flying_wires",
    "traffic.parking",
    "sanitation.garbage",
    "facilities.lighting",
    "heating.no_heat",
    "dispute.neighbour",
    "care.elderly",
]
STATUSES = [
    "reported",
    "accepted",
    "assigned",
    "rectifying",
    "rectified",
    "closed",
    "closed",
    "rejected",
    "suspended",
]


def add_problems(
    db_path,
    community,
    grids,
    count,
    *,
    start_number=1,
    seed=1,
    reported="2026-11-{day:02d}T0{hour}:00:00.000000+00:00",
):
    """count problems spread over the grids, one household per 4 problems."""
    rnd = random.Random(seed)
    ts = now_iso()
    conn = connect(db_path)
    with write_tx(conn):
        households, problems = [], []
        for i in range(count):
            grid = grids[i % len(grids)]
            hid = None
            if i % 4 == 0:
                hid = str(uuid.uuid4())
                households.append(
                    (
                        hid,
                        grid,
                        f"幸福路{i // 40}号",
                        str(i % 9 + 1),
                        "1",
                        f"{i % 30 + 1}01",
                        "张" + "三" * (1 + i % 2),
                        f"138{i:08d}",
                        3,
                        json.dumps(["elderly"]),
                        ts,
                        ts,
                    )
                )
            status = rnd.choice(STATUSES)
            accepted = status not in ("reported", "rejected")
            day = 1 + i % 28
            problems.append(
                (
                    str(uuid.uuid4()),
                    f"{community}-2026-{start_number + i:06d}",
                    hid,
                    grid,
                    community,
                    "visit",
                    rnd.choice(CATEGORIES),
                    f"问题描述 {i} 楼道堆放杂物需要清理",
                    status,
                    f"{grid}",
                    "王主任" if accepted else None,
                    "清理并加强巡查" if accepted else None,
                    f"2026-11-{day:02d}T01:00:00.000000+00:00" if accepted else None,
                    f"2026-11-{min(day + 3, 28):02d}T15:59:59.000000+00:00" if accepted else None,
                    f"2026-11-{min(day + 2, 28):02d}T08:00:00.000000+00:00"
                    if status in ("rectified", "closed")
                    else None,
                    rnd.randint(1, 5) if status == "closed" else None,
                    10.0,
                    20.0,
                    30.0,
                    int(i % 17 == 0),
                    reported.format(day=day, hour=i % 10),
                    ts,
                    ts,
                )
            )
        conn.executemany(
            "INSERT INTO households (id, grid_code, address, building, unit_no, room, head_name,"
            " phone, members, tags, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            households,
        )
        conn.executemany(
            "INSERT INTO problems (id, number, household_id, grid_code, community_code, source,"
            " category, description, status, responsible_unit, responsible_person, measures,"
            " accepted_at, due_at, rectified_at, rating, cost_share_resident,"
            " cost_share_society, cost_share_subsidy, supervised, reported_at, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            problems,
        )
    conn.close()


def build_district(
    db_path,
    *,
    streets=10,
    communities=10,
    grids=10,
    households=250_000,
    visits=1_000_000,
    problems=100_000,
    seed=7,
):
    """A synthetic district at the design's scale (defaults: 250k/1M/100k) for roll-up timing.

    Needs a migrated database with the unit 370303 and a user to own the visits.
    """
    from survey_api.storage import units as unit_store

    rnd = random.Random(seed)
    ts = now_iso()
    conn = connect(db_path)
    grid_codes = []
    with write_tx(conn):
        if unit_store.get(conn, "370303") is None:
            unit_store.upsert(conn, "370303", "张店区", "district", None)
        visitor = conn.execute("SELECT id FROM users LIMIT 1").fetchone()[0]
        for s in range(1, streets + 1):
            street = f"370303{s + 100:03d}000"
            unit_store.upsert(conn, street, f"街道{s}", "street", "370303")
            for c in range(1, communities + 1):
                community = f"370303{s + 100:03d}{c:03d}"
                unit_store.upsert(conn, community, f"社区{s}-{c}", "community", street)
                for g in range(1, grids + 1):
                    code = f"{community}-{g:02d}"
                    unit_store.upsert(conn, code, f"网格{s}-{c}-{g}", "grid", community)
                    grid_codes.append(code)
    with write_tx(conn):
        hids = []
        batch = []
        for i in range(households):
            hid = str(uuid.uuid4())
            hids.append((hid, grid_codes[i % len(grid_codes)]))
            batch.append(
                (
                    hid,
                    hids[-1][1],
                    f"路{i // 100}号",
                    str(i % 9),
                    "1",
                    str(i % 300),
                    "李四",
                    "13800000000",
                    3,
                    "[]",
                    int(i % 97 == 0),
                    ts,
                    ts,
                )
            )
        conn.executemany(
            "INSERT INTO households (id, grid_code, address, building, unit_no, room, head_name,"
            " phone, members, tags, deleted, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
        del batch
    outcomes = ["met", "met", "met", "not_home", "refused"]
    with write_tx(conn):
        rows = []
        for _ in range(visits):
            hid, grid = hids[rnd.randrange(len(hids))]
            day = rnd.randint(1, 28)
            at = f"2026-{rnd.choice(('10', '11'))}-{day:02d}T0{rnd.randint(0, 9)}:00:00+00:00"
            rows.append(
                (
                    str(uuid.uuid4()),
                    hid,
                    grid,
                    visitor,
                    at,
                    at.replace("+00:00", ".000000+00:00"),
                    rnd.choice(outcomes),
                    ts,
                )
            )
            if len(rows) == 50_000:
                conn.executemany(
                    "INSERT INTO visits (id, household_id, grid_code, visitor_id, visited_at,"
                    " visited_at_utc, outcome, received_at) VALUES (?,?,?,?,?,?,?,?)",
                    rows,
                )
                rows = []
        if rows:
            conn.executemany(
                "INSERT INTO visits (id, household_id, grid_code, visitor_id, visited_at,"
                " visited_at_utc, outcome, received_at) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
    conn.close()
    per_community = max(1, problems // (streets * communities))
    for s in range(1, streets + 1):
        for c in range(1, communities + 1):
            community = f"370303{s + 100:03d}{c:03d}"
            add_problems(
                db_path,
                community,
                [f"{community}-{g:02d}" for g in range(1, grids + 1)],
                per_community,
                seed=s * 1000 + c,
            )
    return grid_codes
