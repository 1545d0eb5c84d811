"""A small community with known figures, built straight through the storage layer.

Period of interest: November 2026 (Asia/Shanghai). Expected figures are spelled out in
the tests that use it, so a reader can check them against this file by hand.
"""

import uuid

from survey_api.db import connect, write_tx
from survey_api.storage import households, problems, visits
from survey_api.timeutil import iso, parse_iso

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
FAR_FUTURE = "2099-12-31T15:59:59.000000+00:00"


def ts(text):
    """A Shanghai wall-clock time '2026-11-05 10:00' as the stored UTC ISO form."""
    return iso(parse_iso(text.replace(" ", "T") + ":00+08:00"))


HOUSEHOLDS = {
    # key: (grid, address, building, unit_no, room, head_name, phone, tags, deleted)
    "h1": (
        "370303001001-01",
        "杏园路1号",
        "3",
        "2",
        "301",
        "张三",
        "13812341234",
        ["elderly_alone"],
        False,
    ),
    "h2": ("370303001001-01", "杏园路1号", "3", "2", "302", "欧阳修文", "139-0000-1111", [], False),
    "h3": (
        "370303001001-02",
        "杏园路2号",
        "1",
        "1",
        "101",
        "李四",
        "13700002222",
        ["rental"],
        False,
    ),
    "h4": ("370303001002-01", "华光路5号", "2", "1", "201", "王五", "13600003333", [], False),
    "h5": ("370303002001-01", "世纪路9号", "1", "1", "101", "赵六", "13500004444", [], False),
    "h6": ("370303001001-01", "杏园路1号", "3", "2", "303", "孙七", "13400005555", [], True),
}

VISITS = [
    # (household, visited_at (Shanghai), outcome, notes)
    ("h1", "2026-11-05 09:00", "not_home", "家中无人"),
    ("h1", "2026-11-10 10:30", "met", "独居老人，身体尚好"),
    ("h2", "2026-11-06 15:00", "not_home", None),
    ("h3", "2026-10-01 09:00", "met", None),  # before the period
    ("h4", "2026-11-12 11:00", "met", None),
]

# key: (grid, household, category, reported (Shanghai), lifecycle fields)
PROBLEMS = {
    "p1": (
        "370303001001-01",
        "h1",
        "safety.fire",
        "2026-11-02 09:00",
        dict(
            status="closed",
            accepted_at="2026-11-02 10:00",
            due_at="2026-11-05 23:59",
            rectified_at="2026-11-04 16:00",
            verified_at="2026-11-05 09:00",
            closed_at="2026-11-05 09:00",
            rating=5,
            measures="更换灭火器",
            responsible_person="刘主任",
            cost_share_resident=100,
            cost_share_society=200.5,
            cost_share_subsidy=300,
        ),
    ),
    "p2": (
        "370303001001-01",
        "h2",
        "traffic.parking",
        "2026-11-03 09:00",
        dict(
            status="rectifying",
            accepted_at="2026-11-03 10:00",
            due_at="2026-11-06 23:59",
            supervised=1,
        ),
    ),
    "p3": (
        "370303001001-02",
        None,
        "sanitation.garbage",
        "2026-11-04 09:00",
        dict(status="rejected"),
    ),
    "p4": (
        "370303001001-02",
        "h3",
        "safety.flying_wires",
        "2026-11-05 09:00",
        dict(
            status="closed",
            accepted_at="2026-11-05 10:00",
            due_at="2026-11-08 23:59",
            rectified_at="2026-11-10 12:00",
            verified_at="2026-11-11 09:00",
            closed_at="2026-11-11 09:00",
            rating=2,
        ),
    ),
    "p5": ("370303001001-01", "h1", "safety.fire", "2026-11-06 09:00", dict()),
    "p6": (
        "370303001001-01",
        None,
        "other.other",
        "2026-10-15 09:00",
        dict(status="accepted", accepted_at="2026-10-15 10:00", due_at="2026-10-18 23:59"),
    ),
    "p7": (
        "370303001001-01",
        None,
        "heating.no_heat",
        "2026-11-07 09:00",
        dict(
            status="assigned",
            accepted_at="2026-11-07 10:00",
            due_at=FAR_FUTURE,
            due_estimated=1,
            responsible_person="物业",
        ),
    ),
    "p8": (
        "370303001001-02",
        None,
        "facilities.lighting",
        "2026-11-08 09:00",
        dict(
            status="suspended",
            accepted_at="2026-11-08 10:00",
            due_at="2026-11-09 23:59",
            suspended_from="assigned",
        ),
    ),
    "p9": (
        "370303001002-01",
        "h4",
        "dispute.neighbour",
        "2026-11-10 09:00",
        dict(
            status="closed",
            accepted_at="2026-11-10 10:00",
            due_at="2026-11-13 23:59",
            rectified_at="2026-11-12 10:00",
            closed_at="2026-11-12 18:00",
            rating=4,
        ),
    ),
    "p10": ("370303002001-01", "h5", "care.elderly", "2026-11-10 09:00", dict()),
}

TIME_FIELDS = ("accepted_at", "due_at", "rectified_at", "verified_at", "closed_at")


def build(db_path, visitor_id):
    """Insert the data above; returns {key: id}."""
    conn = connect(db_path)
    ids = {}
    with write_tx(conn):
        for key, (
            grid,
            address,
            building,
            unit_no,
            room,
            name,
            phone,
            tags,
            deleted,
        ) in HOUSEHOLDS.items():
            hid = str(uuid.uuid4())
            ids[key] = hid
            households.insert(
                conn,
                hid,
                {
                    "grid_code": grid,
                    "address": address,
                    "building": building,
                    "unit_no": unit_no,
                    "room": room,
                    "head_name": name,
                    "phone": phone,
                    "members": 2,
                    "tags": tags,
                    "notes": None,
                },
            )
            if deleted:
                households.mark_deleted(conn, hid)
        for key, at, outcome, notes in VISITS:
            vid = str(uuid.uuid4())
            grid = HOUSEHOLDS[key][0]
            visits.insert(
                conn,
                vid,
                {
                    "household_id": ids[key],
                    "visited_at": parse_iso(at.replace(" ", "T") + ":00+08:00").isoformat(),
                    "outcome": outcome,
                    "notes": notes,
                },
                grid_code=grid,
                visitor_id=visitor_id,
            )
        for key, (grid, household, category, reported, lifecycle) in PROBLEMS.items():
            pid = str(uuid.uuid4())
            ids[key] = pid
            community = grid.split("-")[0]
            number = problems.next_number(conn, community, 2026)
            problems.insert(
                conn,
                pid,
                number,
                {
                    "grid_code": grid,
                    "community_code": community,
                    "source": "visit",
                    "category": category,
                    "description": f"问题 {key}",
                    "household_id": ids[household] if household else None,
                },
            )
            fields = dict(lifecycle)
            for name in TIME_FIELDS:
                if name in fields and not fields[name].endswith("+00:00"):
                    fields[name] = ts(fields[name])
            if fields:
                problems.update(conn, pid, fields)
            conn.execute("UPDATE problems SET reported_at = ? WHERE id = ?", (ts(reported), pid))
    conn.close()
    return ids
