"""The measurements: push and replay, the in-process floor, pulls, summary and exports."""

import csv
import io
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import requests

from .. import demo_data
from ..db import connect
from ..timeutil import SHANGHAI, iso
from .district import BENCH_PASSWORD

BATCH = 500
CLIENTS = 4
PULL_REPEATS = 3  # each run takes the median of this many pulls


class Client:
    """A logged-in requests.Session against the served API."""

    def __init__(self, base, username, password=BENCH_PASSWORD):
        self.base = base
        self.session = requests.Session()
        resp = self.session.post(
            f"{base}/auth/login", json={"username": username, "password": password}, timeout=60
        )
        _check(resp, f"login {username}")
        self.session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def get(self, path, **params):
        return self.session.get(self.base + path, params=params, timeout=300)

    def push(self, body, key):
        return self.session.post(
            self.base + "/sync/push", json=body, timeout=300, headers={"Idempotency-Key": key}
        )


def _check(resp, what):
    if resp.status_code >= 400:
        raise RuntimeError(f"{what}: HTTP {resp.status_code} {resp.text[:300]}")
    return resp


def _uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_batches(rng, grid, household_ids, n_batches, now=None):
    """n 500-item push bodies for one grid: groups of 4 visits then a problem on the 4th visit."""
    now = now or datetime.now(UTC)
    categories = list(demo_data.PROBLEMS)
    batches = []
    for _ in range(n_batches):
        items = []
        while len(items) < BATCH:
            hid = rng.choice(household_ids)
            at = (now - timedelta(minutes=rng.randrange(1, 3 * 24 * 60))).astimezone(SHANGHAI)
            at = at.replace(microsecond=0)
            vid = _uuid(rng)
            outcome = rng.choices(demo_data.OUTCOMES, (70, 15, 4, 6, 5))[0]
            location = {
                "lat": round(36.8 + rng.random() / 20, 6),
                "lng": round(118.03 + rng.random() / 20, 6),
                "accuracy_m": 8.0,
            }
            items.append(
                {
                    "op_id": _uuid(rng),
                    "entity": "visit",
                    "op": "create",
                    "id": vid,
                    "at_client": at.isoformat(),
                    "data": {
                        "household_id": hid,
                        "visited_at": at.isoformat(),
                        "outcome": outcome,
                        "notes": rng.choice(demo_data.VISIT_NOTES[outcome]),
                        "location": location,
                    },
                }
            )
            if len(items) % 5 == 4:
                category = rng.choice(categories)
                items.append(
                    {
                        "op_id": _uuid(rng),
                        "entity": "problem",
                        "op": "create",
                        "id": _uuid(rng),
                        "at_client": at.isoformat(),
                        "data": {
                            "grid_code": grid,
                            "category": category,
                            "description": rng.choice(demo_data.PROBLEMS[category]),
                            "visit_id": vid,
                            "household_id": hid,
                            "source": "visit",
                            "location": location,
                        },
                    }
                )
        batches.append({"device_id": f"bench-{grid}", "device_time": iso(now), "items": items})
    return batches


def _run_clients(clients_batches, keys):
    """Send every client's batches from its own thread; returns (seconds, summaries)."""
    summaries, errors = [], []
    lock = threading.Lock()

    def work(client, batches, batch_keys):
        try:
            for body, key in zip(batches, batch_keys, strict=True):
                resp = _check(client.push(body, key), "push")
                with lock:
                    summaries.append(resp.json()["summary"])
        except Exception as e:  # reported after the join
            with lock:
                errors.append(e)

    threads = [
        threading.Thread(target=work, args=(c, b, k))
        for (c, b), k in zip(clients_batches, keys, strict=True)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed, summaries


def push_plan(district, scale, rng):
    """{grid: [batch body, …]} for the 4 clients, grids spread over the district."""
    return {
        grid: make_batches(
            rng, grid, district.households_by_grid[grid], scale.push_batches_per_client
        )
        for grid in _spread(district.grids, CLIENTS)
    }


def measure_push(base, district, plan):
    """Push 4 clients' batches, then replay them (new keys: every item a duplicate op_id)."""
    clients_batches = [
        (Client(base, district.workers[grid]), batches) for grid, batches in plan.items()
    ]
    n_items = sum(len(b["items"]) for batches in plan.values() for b in batches)

    def keys():
        return [[f"bench-{uuid.uuid4().hex}" for _ in batches] for _, batches in clients_batches]

    push_keys = keys()
    push_s, summaries = _run_clients(clients_batches, push_keys)
    applied = sum(s["applied"] for s in summaries)
    replay_s, replays = _run_clients(clients_batches, keys())
    duplicate = sum(s["duplicate"] for s in replays)
    same_key_s, _ = _run_clients(clients_batches, push_keys)
    out = {
        "push_items": n_items,
        "push_items_per_s": n_items / push_s,
        "push_applied": applied,
        "replay_items_per_s": n_items / replay_s,
        "replay_duplicates": duplicate,
        "replay_same_key_items_per_s": n_items / same_key_s,
    }
    notes = []
    if applied != n_items:
        notes.append(f"push applied {applied} of {n_items} items")
    if duplicate != n_items:
        notes.append(f"replay found {duplicate} duplicates of {n_items} items")
    return out, notes


# Records a side-by-side client pushes per run (issue 14): a record is a new household with
# its visit, and 30% of them a problem found on that visit.
RECORDS = {"full": 30_000, "small": 3_000, "tiny": 400}
PROBLEM_SHARE = 0.3


def make_record_batches(rng, grid, n_records, now=None):
    """500-item push bodies creating n_records household records for one grid.

    Each record is a household create, a visit create of it and, for 30% of them, a problem
    create on that visit; a record is never split over two batches.
    """
    now = now or datetime.now(UTC)
    categories = list(demo_data.PROBLEMS)
    batches, items = [], []

    def flush():
        batches.append(
            {"device_id": f"bench-records-{grid}", "device_time": iso(now), "items": list(items)}
        )
        items.clear()

    for n in range(n_records):
        at = (now - timedelta(minutes=rng.randrange(1, 3 * 24 * 60))).astimezone(SHANGHAI)
        at = at.replace(microsecond=0).isoformat()
        hid, vid = _uuid(rng), _uuid(rng)
        record = [
            {
                "op_id": _uuid(rng),
                "entity": "household",
                "op": "create",
                "id": hid,
                "at_client": at,
                "data": {
                    "grid_code": grid,
                    "address": f"基准路{rng.randrange(1, 999)}号{n}户",
                    "building": str(rng.randrange(1, 30)),
                    "unit_no": str(rng.randrange(1, 6)),
                    "room": str(rng.randrange(101, 1802)),
                    "head_name": "王建国",
                    "phone": f"138{rng.randrange(10**7, 10**8)}",
                    "members": rng.randrange(1, 6),
                    "tags": ["elderly"] if n % 7 == 0 else [],
                },
            },
            {
                "op_id": _uuid(rng),
                "entity": "visit",
                "op": "create",
                "id": vid,
                "at_client": at,
                "data": {
                    "household_id": hid,
                    "visited_at": at,
                    "outcome": "met",
                    "notes": rng.choice(demo_data.VISIT_NOTES["met"]),
                },
            },
        ]
        if rng.random() < PROBLEM_SHARE:
            category = rng.choice(categories)
            record.append(
                {
                    "op_id": _uuid(rng),
                    "entity": "problem",
                    "op": "create",
                    "id": _uuid(rng),
                    "at_client": at,
                    "data": {
                        "grid_code": grid,
                        "category": category,
                        "description": rng.choice(demo_data.PROBLEMS[category]),
                        "visit_id": vid,
                        "household_id": hid,
                        "source": "visit",
                    },
                }
            )
        if len(items) + len(record) > BATCH:
            flush()
        items.extend(record)
    if items:
        flush()
    return batches


def measure_push_records(base, district, scale, rng):
    """push_records_per_s: 4 clients push new household records (household + visit + 30%
    problem) in 500-item batches; records / wall time of all batches."""
    per_client = RECORDS[scale.name] // CLIENTS
    grids = _spread(district.grids, CLIENTS)
    clients_batches = [
        (Client(base, district.workers[grid]), make_record_batches(rng, grid, per_client))
        for grid in grids
    ]
    n_items = sum(len(b["items"]) for _, batches in clients_batches for b in batches)
    keys = [[f"bench-rec-{uuid.uuid4().hex}" for _ in batches] for _, batches in clients_batches]
    seconds, summaries = _run_clients(clients_batches, keys)
    applied = sum(s["applied"] for s in summaries)
    out = {
        "push_records": per_client * CLIENTS,
        "push_records_per_s": per_client * CLIENTS / seconds,
        "push_records_items_per_s": n_items / seconds,
    }
    notes = [] if applied == n_items else [f"records push applied {applied} of {n_items} items"]
    return out, notes


def measure_floor(db_path, plan, district):
    """Marshmallow load with the push schemas + executemany of the same rows, one transaction.

    The rows get fresh ids (the pushed ones are stored already) and are deleted afterwards,
    untimed, so the database stays as the services left it.
    """
    from schemas.problems import ProblemCreateSchema
    from schemas.sync import PushItemSchema
    from schemas.visits import VisitCreateSchema

    rng = random.Random(7)
    remap = {}
    fresh = []
    for body in (b for batches in plan.values() for b in batches):
        items = []
        for item in body["items"]:
            item = dict(item, op_id=_uuid(rng))
            item["id"] = remap.setdefault(item["id"], _uuid(rng))
            data = dict(item["data"])
            if "visit_id" in data:
                data["visit_id"] = remap[data["visit_id"]]
            item["data"] = data
            items.append(item)
        fresh.append(items)
    conn = connect(db_path)
    visitor = district.workers
    user_ids = dict(
        conn.execute("SELECT username, id FROM users WHERE role = 'grid_worker'").fetchall()
    )
    grid_of = {}
    for items in fresh:
        for item in items:
            hid = item["data"].get("household_id")
            if hid and hid not in grid_of:
                grid_of[hid] = conn.execute(
                    "SELECT grid_code FROM households WHERE id = ?", (hid,)
                ).fetchone()[0]

    item_schema, visit_schema, problem_schema = (
        PushItemSchema(),
        VisitCreateSchema(),
        ProblemCreateSchema(),
    )
    started = time.perf_counter()
    visits, problems = [], []
    now = iso(datetime.now(UTC))
    n = 0
    for items in fresh:
        for raw in items:
            item = item_schema.load(raw)
            n += 1
            if item["entity"] == "visit":
                d = visit_schema.load(item["data"])
                grid = grid_of[d["household_id"]]
                loc = d.get("location") or {}
                visits.append(
                    (
                        item["id"],
                        d["household_id"],
                        grid,
                        user_ids[visitor[grid]],
                        d["visited_at"].isoformat(),
                        iso(d["visited_at"]),
                        d["outcome"],
                        d.get("notes"),
                        loc.get("lat"),
                        loc.get("lng"),
                        loc.get("accuracy_m"),
                        now,
                        iso(item["at_client"]),
                    )
                )
            else:
                d = problem_schema.load(item["data"])
                loc = d.get("location") or {}
                problems.append(
                    (
                        item["id"],
                        f"floor-{item['id']}",
                        d.get("visit_id"),
                        d.get("household_id"),
                        d["grid_code"],
                        d["grid_code"].split("-")[0],
                        d["source"],
                        d["category"],
                        d["description"],
                        d["urgency"],
                        loc.get("lat"),
                        loc.get("lng"),
                        loc.get("accuracy_m"),
                        d["grid_code"],
                        now,
                        now,
                        now,
                        iso(item["at_client"]),
                    )
                )
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO visits (id, household_id, grid_code, visitor_id, visited_at, visited_at_utc,"
        " outcome, notes, lat, lng, accuracy_m, received_at, created_at_client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        visits,
    )
    conn.executemany(
        "INSERT INTO problems (id, number, visit_id, household_id, grid_code, community_code, "
        "source, category, description, urgency, lat, lng, accuracy_m, responsible_unit, "
        "reported_at, created_at, updated_at, created_at_client) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        problems,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    # Only floor rows reference floor rows; skip the FK scans (problems.visit_id has no index).
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("DELETE FROM problems WHERE id = ?", [(p[0],) for p in problems])
    conn.executemany("DELETE FROM visits WHERE id = ?", [(v[0],) for v in visits])
    columns = {r[1] for r in conn.execute("PRAGMA table_info(households)")}
    if "last_met_at" in columns:  # kept by triggers on visits insert: put it back
        conn.executemany(
            "UPDATE households SET last_met_at = (SELECT max(v.visited_at_utc) FROM visits v"
            " WHERE v.household_id = households.id AND v.outcome = 'met') WHERE id = ?",
            [(hid,) for hid in {v[1] for v in visits}],
        )
    conn.execute("COMMIT")
    conn.close()
    return {"floor_items_per_s": n / elapsed}


def measure_pull(base, district, rng):
    """A grid worker's full initial sync, then an incremental pull after one new visit."""
    # A typical grid: not pushed to by the push clients, not in the large export community.
    pushed = set(_spread(district.grids, CLIENTS))
    others = [
        g for g in district.grids if g not in pushed and not g.startswith(district.communities[0])
    ]
    grid = others[0] if others else district.grids[-1]
    client = Client(base, district.workers[grid])
    initial = []
    for _ in range(PULL_REPEATS):
        started = time.perf_counter()
        cursor, records, pages = None, 0, 0
        while True:
            params = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            body = _check(client.get("/sync/pull", **params), "pull").json()
            pages += 1
            records += _pulled(body)
            cursor = body["next_cursor"]
            if not body["has_more"]:
                break
        initial.append((time.perf_counter() - started) * 1000)
    initial_ms = statistics.median(initial)
    incremental, changed = [], 0
    for _ in range(PULL_REPEATS):
        batch = make_batches(rng, grid, district.households_by_grid[grid], 1)[0]
        batch["items"] = batch["items"][:5]  # 4 visits and a problem
        _check(client.push(batch, f"bench-inc-{uuid.uuid4().hex}"), "push")
        started = time.perf_counter()
        body = _check(client.get("/sync/pull", cursor=cursor, limit=1000), "pull").json()
        incremental.append((time.perf_counter() - started) * 1000)
        changed = _pulled(body)
        cursor = body["next_cursor"]
    return {
        "pull_initial_ms": initial_ms,
        "pull_initial_records": records,
        "pull_initial_pages": pages,
        "pull_initial_records_per_s": records / (initial_ms / 1000),
        "pull_incremental_ms": statistics.median(incremental),
        "pull_incremental_records": changed,
    }


def _pulled(body):
    changes = body["changes"]
    return sum(
        len(changes[kind].get(part, [])) for kind in changes for part in ("upserted", "deleted")
    )


def measure_summary(base, district, n):
    client = Client(base, district.district_admin)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        _check(client.get(f"/units/{district.district_code}/summary"), "summary")
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "summary_p50_ms": statistics.median(times),
        "summary_p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "summary_requests": n,
    }


def measure_console_queue(base, district, n):
    """The secretary's 问题清单, first page, in the big community: logged in through the
    console's login form (cookie session), HTML response time p50/p95."""
    root = base.removesuffix("/api/v1")
    community = district.communities[0]
    session = requests.Session()
    resp = session.post(
        f"{root}/console/login",
        allow_redirects=False,
        timeout=60,
        data={"username": district.secretaries[community], "password": BENCH_PASSWORD},
    )
    if resp.status_code != 302 or "access_token_cookie" not in session.cookies:
        raise RuntimeError(f"console login: HTTP {resp.status_code} {resp.text[:200]}")
    times, total = [], None
    for _ in range(n):
        started = time.perf_counter()
        page = _check(session.get(f"{root}/console/problems", timeout=60), "console queue")
        times.append((time.perf_counter() - started) * 1000)
        total = page.text.split("共 ", 1)[1].split(" 条", 1)[0] if "共 " in page.text else None
    times.sort()
    return {
        "console_queue_ms": statistics.median(times),
        "console_queue_p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "console_queue_problems": int(total) if total else None,
    }


def console_session(base, username, password=BENCH_PASSWORD):
    """A requests.Session logged in through the console's login form (cookie session)."""
    root = base.rsplit("/api/v1", 1)[0]
    session = requests.Session()
    resp = session.post(
        f"{root}/console/login",
        data={"username": username, "password": password},
        allow_redirects=False,
        timeout=60,
    )
    if resp.status_code != 302:
        raise RuntimeError(f"console login {username}: HTTP {resp.status_code}")
    return root, session


def measure_console_dashboard(base, district, n):
    """The district's 统计 page (the default period, all time): server time of the HTML."""
    root, session = console_session(base, district.district_admin)
    url = f"{root}/console/units/{district.district_code}"
    _check(session.get(url, timeout=300), "console dashboard")  # warm the worker's caches
    times = []
    for _ in range(n):
        started = time.perf_counter()
        resp = _check(session.get(url, timeout=300), "console dashboard")
        times.append((time.perf_counter() - started) * 1000)
        if "统计</h1>" not in resp.text:
            raise RuntimeError("console dashboard: not the 统计 page")
    times.sort()
    return {
        "console_dashboard_ms": statistics.median(times),
        "console_dashboard_p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "console_dashboard_requests": n,
    }


def measure_exports(base, district, server):
    """Problem and rectification lists as CSV and XLSX, rows/s and the workers' peak RSS.

    The large first community gives the figures; an ordinary community is exported first
    so the peak RSS of the two can be compared (flat = the same, whatever the row count).
    """
    out = {}
    small = district.communities[1] if len(district.communities) > 1 else None
    if small:
        ref = _export_community(base, district, server, small)
        out["export_small_list_rows"] = ref["rows"]
        out["export_small_list_peak_rss_mb"] = ref["peak_rss_mb"]
    big = _export_community(base, district, server, district.communities[0])
    out.update(
        export_csv_rows_per_s=big["csv_rows_per_s"],
        export_xlsx_rows_per_s=big["xlsx_rows_per_s"],
        export_problem_list_rows=big["problem-list"],
        export_rectification_list_rows=big["rectification-list"],
        export_peak_rss_mb=big["peak_rss_mb"],
        export_rss_before_mb=big["rss_before_mb"],
        export_rss_growth_mb=big["peak_rss_mb"] - big["rss_before_mb"],
        export_rss_reset=big["reset"],
    )
    return out


def _export_community(base, district, server, community):
    client = Client(base, district.secretaries[community])
    reset = server.reset_peak_rss()
    before = server.rss_mb()
    out = {"reset": reset, "rss_before_mb": before}
    totals = {"csv": [0, 0.0], "xlsx": [0, 0.0]}
    for kind in ("problem-list", "rectification-list"):
        rows = None
        for fmt in ("csv", "xlsx"):
            started = time.perf_counter()
            resp = _check(client.get(f"/communities/{community}/{kind}", format=fmt), kind)
            content = resp.content
            elapsed = time.perf_counter() - started
            if fmt == "csv":
                text = content.decode("utf-8-sig")
                rows = sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1
            totals[fmt][0] += rows
            totals[fmt][1] += elapsed
        out[kind] = rows
    out["rows"] = totals["csv"][0]
    out["csv_rows_per_s"] = totals["csv"][0] / totals["csv"][1]
    out["xlsx_rows_per_s"] = totals["xlsx"][0] / totals["xlsx"][1]
    out["peak_rss_mb"] = server.peak_rss_mb()
    return out


def _spread(items, n):
    """n items spread evenly over the list (different communities and streets)."""
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]
