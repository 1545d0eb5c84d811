"""The benchmark's synthetic district, written with bulk SQL (executemany in big transactions).

Rows follow the schema's rules the services follow: every household, visit and problem has a
`changes` row whose seq is on the record, problem numbers are gap-free per community and year
(with `problem_counters` at the last one), every problem has a `report` event and one event per
action that brought it to its state.
"""

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .. import demo_data
from ..db import connect
from ..migrations import migrate
from ..passwords import hash_password
from ..timeutil import SHANGHAI, iso

BENCH_PASSWORD = "bench-password-1"
CHUNK = 50_000


@dataclass(frozen=True)
class Scale:
    name: str
    streets: int
    communities_per_street: int
    grids_per_community: int
    households_per_grid: int
    visits: int
    problems: int
    push_batches_per_client: int  # 500-item batches each of the 4 clients sends per run
    summary_requests: int
    # Of the problems, this many are hotline reports in the first community over ~3 years:
    # the exported community, large enough that export rows/s is throughput, not overhead.
    export_community_problems: int

    @property
    def grids(self):
        return self.streets * self.communities_per_street * self.grids_per_community

    @property
    def households(self):
        return self.grids * self.households_per_grid


SCALES = {
    "full": Scale("full", 10, 10, 10, 250, 1_000_000, 100_000, 4, 15, 20_000),
    "small": Scale("small", 2, 5, 2, 250, 20_000, 2_000, 2, 15, 1_000),
    "tiny": Scale("tiny", 1, 2, 2, 50, 400, 80, 1, 5, 20),
}


@dataclass
class District:
    """What the measurements need to know about the built district."""

    district_code: str
    streets: list
    communities: list
    grids: list
    workers: dict  # grid code → username
    secretaries: dict  # community code → username
    district_admin: str
    households_by_grid: dict  # grid code → [household id, …] (a sample for pushes)
    counts: dict


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _units(scale):
    district = demo_data.DISTRICT[0]
    units = [(district, demo_data.DISTRICT[1], "district", None)]
    streets, communities, grids = [], [], []
    for s in range(1, scale.streets + 1):
        street = f"{district}{s:03d}000"
        units.append((street, f"第{s}街道", "street", district))
        streets.append(street)
        for c in range(1, scale.communities_per_street + 1):
            community = f"{district}{s:03d}{c:03d}"
            units.append((community, f"第{s}街道第{c}社区", "community", street))
            communities.append(community)
            for g in range(1, scale.grids_per_community + 1):
                grid = f"{community}-{g:02d}"
                units.append((grid, f"第{s}街道第{c}社区{g}网格", "grid", community))
                grids.append(grid)
    return units, streets, communities, grids


def build(db_path, scale, seed=20261127, now=None, log=print):
    """Create the database at db_path and fill it; returns a District."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    conn = connect(db_path)
    migrate(conn)
    conn.execute("PRAGMA synchronous = OFF")
    units, streets, communities, grids = _units(scale)
    ts = iso(now - timedelta(days=400))

    def tx(sql, rows):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    paths = {}
    unit_rows = []
    for code, name, level, parent in units:
        paths[code] = (paths[parent] if parent else "/") + code + "/"
        unit_rows.append((code, name, level, parent, paths[code], ts, ts))
    tx(
        "INSERT INTO units (code, name, level, parent_code, path, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        unit_rows,
    )

    # One login per grid, community, street; the same hash for all (hashing is slow).
    pw_hash = hash_password(BENCH_PASSWORD)
    users, user_units = [], []
    workers, secretaries, street_admins = {}, {}, {}
    user_ids = {}

    def add_user(username, role, unit):
        uid = new_uuid(rng)
        user_ids[username] = uid
        users.append((uid, username, username, pw_hash, role, ts, ts))
        if unit:
            user_units.append((uid, unit))
        return username

    add_user("bench_admin", "admin", None)
    district_admin = add_user("bench_district", "district_admin", units[0][0])
    for street in streets:
        street_admins[street] = add_user(f"street_{street}", "street_admin", street)
    for community in communities:
        secretaries[community] = add_user(f"sec_{community}", "secretary", community)
    for grid in grids:
        workers[grid] = add_user(f"gw_{grid}", "grid_worker", grid)
    tx(
        "INSERT INTO users (id, username, display_name, password_hash, role, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        users,
    )
    tx("INSERT INTO user_units (user_id, unit_code) VALUES (?, ?)", user_units)

    seq = 0
    changes = []

    def change(entity, record_id, grid):
        nonlocal seq
        seq += 1
        changes.append((seq, entity, record_id, grid))
        return seq

    def flush_changes():
        tx("INSERT INTO changes (seq, entity, record_id, grid_code) VALUES (?, ?, ?, ?)", changes)
        changes.clear()

    # Households.
    household_sql = (
        "INSERT INTO households (id, grid_code, address, building, unit_no, room, head_name, "
        "phone, members, tags, notes, version, field_versions, created_by, created_at, "
        "updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, '{}', ?, ?, ?, ?)"
    )
    households = []  # (id, grid) in creation order, for visits
    sample = {}
    rows = []
    for grid in grids:
        worker_id = user_ids[workers[grid]]
        estate = f"{grid[-6:-3]}号院"
        ids = []
        for i in range(scale.households_per_grid):
            hid = new_uuid(rng)
            building, unit_no = i // 24 + 1, (i // 8) % 3 + 1
            room = (i % 8) // 2 * 100 + 101 + i % 2
            tags = demo_data.household_tags(rng)
            rows.append(
                (
                    hid,
                    grid,
                    f"{estate}{building}号楼{unit_no}单元{room}室",
                    str(building),
                    str(unit_no),
                    str(room),
                    demo_data.person_name(rng),
                    demo_data.phone(rng),
                    rng.randint(1, 6),
                    json.dumps(tags),
                    None,
                    worker_id,
                    ts,
                    ts,
                    change("household", hid, grid),
                )
            )
            ids.append(hid)
            households.append((hid, grid))
            if len(rows) >= CHUNK:
                tx(household_sql, rows)
                flush_changes()
                rows.clear()
        sample[grid] = ids
    if rows:
        tx(household_sql, rows)
        flush_changes()
    log(f"  households: {len(households):,} ({time.perf_counter() - started:.1f}s)")

    # Visits over the last 300 days; a chosen subset of them found a problem.
    n_visits = scale.visits
    with_problem = set(
        rng.sample(range(n_visits), scale.problems - scale.export_community_problems)
    )
    visit_sql = (
        "INSERT INTO visits (id, household_id, grid_code, visitor_id, visited_at, visited_at_utc,"
        " outcome, notes, lat, lng, accuracy_m, photos, received_at, seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)"
    )
    problems = []  # tuples without number/seq, sorted and numbered below
    rows = []
    outcome_weights = (70, 15, 4, 6, 5)
    categories = list(demo_data.PROBLEMS)
    for v in range(n_visits):
        hid, grid = households[v % len(households)]
        at = now - timedelta(seconds=rng.randrange(3600, 300 * 86400))
        local = at.astimezone(SHANGHAI).replace(microsecond=0)
        outcome = rng.choices(demo_data.OUTCOMES, outcome_weights)[0]
        vid = new_uuid(rng)
        lat, lng = 36.80 + rng.random() * 0.05, 118.03 + rng.random() * 0.05
        rows.append(
            (
                vid,
                hid,
                grid,
                user_ids[workers[grid]],
                local.isoformat(),
                iso(local),
                outcome,
                rng.choice(demo_data.VISIT_NOTES[outcome]),
                lat,
                lng,
                10.0,
                iso(local + timedelta(hours=rng.randint(0, 48))),
                change("visit", vid, grid),
            )
        )
        if v in with_problem:
            category = rng.choice(categories)
            problems.append((local + timedelta(minutes=5), vid, hid, grid, category, lat, lng))
        if len(rows) >= CHUNK:
            tx(visit_sql, rows)
            flush_changes()
            rows.clear()
    if rows:
        tx(visit_sql, rows)
        flush_changes()
    log(f"  visits: {n_visits:,} ({time.perf_counter() - started:.1f}s)")
    first_community = households[: scale.grids_per_community * scale.households_per_grid]
    for _ in range(scale.export_community_problems):
        hid, grid = rng.choice(first_community)
        at = (now - timedelta(seconds=rng.randrange(3600, 1000 * 86400))).astimezone(SHANGHAI)
        problems.append(
            (
                at.replace(microsecond=0),
                None,
                hid,
                grid,
                rng.choice(categories),
                36.8 + rng.random() / 20,
                118.03 + rng.random() / 20,
            )
        )

    _problems(conn, tx, rng, problems, now, user_ids, workers, secretaries, change, flush_changes)
    log(f"  problems: {len(problems):,} ({time.perf_counter() - started:.1f}s)")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return District(
        district_code=units[0][0],
        streets=streets,
        communities=communities,
        grids=grids,
        workers=workers,
        secretaries=secretaries,
        district_admin=district_admin,
        households_by_grid=sample,
        counts={"households": len(households), "visits": n_visits, "problems": len(problems)},
    )


# Problem states and the actions that lead to each, with how often they occur.
_PATHS = [
    ("reported", [], 8),
    ("accepted", ["accept"], 7),
    ("assigned", ["accept", "assign"], 7),
    ("rectifying", ["accept", "assign", "start"], 10),
    ("rectified", ["accept", "assign", "start", "rectify"], 8),
    ("closed", ["accept", "assign", "start", "rectify", "verify"], 20),
    ("closed", ["accept", "assign", "start", "rectify", "verify", "rate"], 30),
    ("rejected", ["reject"], 4),
    ("suspended", ["accept", "suspend"], 3),
    ("rectifying", ["accept", "escalate", "assign", "start"], 3),
]
_TO = {
    "accept": "accepted",
    "assign": "assigned",
    "start": "rectifying",
    "rectify": "rectified",
    "verify": "closed",
    "reject": "rejected",
    "suspend": "suspended",
}


def _problems(conn, tx, rng, problems, now, user_ids, workers, secretaries, change, flush):
    problems.sort(key=lambda p: p[0])
    counters = {}
    weights = [w for _, _, w in _PATHS]
    problem_rows, events = [], []
    cols = (
        "id, number, visit_id, household_id, grid_code, community_code, source, category, "
        "description, urgency, lat, lng, accuracy_m, status, suspended_from, suspended_at, "
        "level, responsible_unit, responsible_person, responsible_user_id, measures, "
        "accepted_at, due_at, due_estimated, rectified_at, verified_by, verified_at, "
        "closed_at, rating, rating_comment, cost_share_resident, cost_share_society, "
        "cost_share_subsidy, supervised, version, created_by, reported_at, created_at, "
        "updated_at, seq"
    )
    problem_sql = f"INSERT INTO problems ({cols}) VALUES ({', '.join('?' * len(cols.split(',')))})"
    event_sql = (
        "INSERT INTO problem_events (id, problem_id, action, from_status, to_status, "
        "actor_id, at, note, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    for reported, vid, hid, grid, category, lat, lng in problems:
        community = grid.split("-")[0]
        year = reported.year
        counters[(community, year)] = number = counters.get((community, year), 0) + 1
        pid = new_uuid(rng)
        worker = user_ids[workers[grid]]
        secretary = user_ids[secretaries[community]]
        status, actions, _ = rng.choices(_PATHS, weights)[0]
        at = reported
        level, responsible_unit, person = "grid", grid, None
        accepted_at = due_at = rectified_at = verified_at = verified_by = closed_at = None
        rating = comment = measures = suspended_from = suspended_at = None
        costs = (None, None, None)
        events.append((new_uuid(rng), pid, "report", None, "reported", worker, iso(at), None, "{}"))
        current = "reported"
        for action in actions:
            at = min(at + timedelta(hours=rng.randint(2, 60)), now - timedelta(minutes=1))
            payload = {}
            actor = secretary
            to = _TO.get(action, current)
            if action == "accept":
                accepted_at = iso(at)
                due_at = iso((at + timedelta(days=4)).replace(hour=23, minute=59, second=59))
            elif action == "assign":
                responsible_unit = community if level != "grid" else grid
                person = demo_data.person_name(rng)
                payload = {"responsible_unit": responsible_unit, "responsible_person": person}
            elif action == "start":
                actor = worker
            elif action == "rectify":
                actor = worker
                rectified_at = iso(at)
                measures = rng.choice(demo_data.MEASURES)
                costs = (
                    float(rng.randint(0, 200)),
                    float(rng.randint(0, 500)),
                    float(rng.randint(0, 2000)),
                )
                payload = {"measures": measures}
            elif action == "verify":
                verified_at = closed_at = iso(at)
                verified_by = secretary
                payload = {"ok": True}
            elif action == "rate":
                rating = rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 33, 50))[0]
                comment = "满意" if rating >= 3 else "不满意"
                payload = {"rating": rating}
            elif action == "escalate":
                level = "community"
                responsible_unit = community
            elif action == "suspend":
                suspended_from, suspended_at = current, iso(at)
            events.append(
                (
                    new_uuid(rng),
                    pid,
                    action,
                    current,
                    to,
                    actor,
                    iso(at),
                    None,
                    json.dumps(payload, ensure_ascii=False),
                )
            )
            current = to
        supervised = 1 if status not in ("closed", "rejected") and rng.random() < 0.05 else 0
        if supervised:
            at = min(at + timedelta(hours=1), now - timedelta(minutes=1))
            events.append(
                (
                    new_uuid(rng),
                    pid,
                    "supervise",
                    current,
                    current,
                    secretary,
                    iso(at),
                    "请加快办理",
                    "{}",
                )
            )
        problem_rows.append(
            (
                pid,
                f"{community}-{year}-{number:04d}",
                vid,
                hid,
                grid,
                community,
                "visit" if vid else "hotline",
                category,
                rng.choice(demo_data.PROBLEMS[category]),
                "urgent" if rng.random() < 0.05 else "normal",
                lat,
                lng,
                10.0,
                status,
                suspended_from,
                suspended_at,
                level,
                responsible_unit,
                person,
                None,
                measures,
                accepted_at,
                due_at,
                0,
                rectified_at,
                verified_by,
                verified_at,
                closed_at,
                rating,
                comment,
                *costs,
                supervised,
                1 + len(actions) + supervised,
                worker,
                iso(reported),
                iso(reported),
                iso(at),
                change("problem", pid, grid),
            )
        )
        if len(problem_rows) >= CHUNK:
            tx(problem_sql, problem_rows)
            tx(event_sql, events)
            flush()
            problem_rows.clear()
            events.clear()
    if problem_rows:
        tx(problem_sql, problem_rows)
        tx(event_sql, events)
        flush()
    tx(
        "INSERT INTO problem_counters (community_code, year, last) VALUES (?, ?, ?)",
        [(c, y, n) for (c, y), n in counters.items()],
    )
