"""The demo district: 张店区, three streets, six communities, twelve grids, a season of work.

Every household, visit, problem and action goes through the services the API uses
(services.households/visits/problems.create, services.lifecycle.apply_action, the blob
store), so seeding the demo is also a smoke test of them. The story is replayed on a
simulated clock over the last four months, in time order, so reported/accepted/due times,
overdue problems and the change log all read as they would after a real season.

Deterministic (seeded random); refuses a database that has users or households already.
"""

import random
import struct
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from . import demo_data, timeutil
from .db import connect, write_tx
from .passwords import hash_password
from .scope import Scope
from .services import blob_store, households, lifecycle, problems, visits
from .storage import audit, blobs
from .storage import units as unit_store
from .storage import users as user_store

SEED = 370303
DAYS = 120

# The printed logins: one per role.
LOGINS = [
    ("admin", "zd-admin-2026", "admin", None),
    ("district", "zd-district-26", "district_admin", "370303"),
    ("street", "zd-street-2026", "street_admin", "370303001000"),
    ("secretary", "zd-sec-2026", "secretary", "370303001001"),
    ("worker", "zd-worker-2026", "grid_worker", "370303001001-01"),
]
STAFF_PASSWORD = "zd-staff-2026"
GRIDS_PER_COMMUNITY = 2
HOUSEHOLDS_PER_GRID = 12


class DemoRefused(RuntimeError):
    """The database is not empty."""


def seed_demo(app, now=None):
    """Seed app's database; returns [{username, password, role, unit}] for the printed logins."""
    conn = connect(app.config["DATABASE"], app.config["BUSY_TIMEOUT_MS"])
    try:
        with write_tx(conn):
            users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
            records = conn.execute("SELECT count(*) FROM households").fetchone()[0]
            if users or records:
                raise DemoRefused(
                    f"the database {app.config['DATABASE']} already has {users} user(s) and "
                    f"{records} household(s); the demo seeds only an empty database "
                    "(point SURVEY_API_INSTANCE_PATH at a new folder)."
                )
            _Demo(conn, app.config["BLOB_DIR"], now or datetime.now(UTC)).seed()
    finally:
        conn.close()
    return [{"username": u, "password": p, "role": r, "unit": c} for u, p, r, c in LOGINS]


class _SimulatedDateTime(datetime):
    """datetime whose now() is the demo's clock (timeutil.now() reads it)."""

    current = None

    @classmethod
    def now(cls, tz=None):
        return cls.current.astimezone(tz) if tz else cls.current.replace(tzinfo=None)


@contextmanager
def simulated_clock():
    """Make timeutil.now() return _SimulatedDateTime.current while seeding."""
    real = timeutil.datetime
    timeutil.datetime = _SimulatedDateTime
    try:
        yield _SimulatedDateTime
    finally:
        timeutil.datetime = real


def tiny_png(rgb, size=8):
    """A valid size×size single-colour PNG (a stand-in photo)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class _Demo:
    def __init__(self, conn, blob_dir, now):
        self.conn = conn
        self.blob_dir = blob_dir
        self.now = now.astimezone(UTC)
        self.rng = random.Random(SEED)
        self.steps = []  # (time, order, fn)
        self.scopes = {}

    # --- helpers -------------------------------------------------------------------
    def at(self, when, fn):
        """Schedule fn at simulated time `when` (steps run in time order)."""
        self.steps.append((min(when, self.now - timedelta(minutes=1)), len(self.steps), fn))

    def scope(self, username):
        if username not in self.scopes:
            user = user_store.get_by_username(self.conn, username)
            self.scopes[username] = Scope(self.conn, user_store.get(self.conn, user["id"]))
        return self.scopes[username]

    def uuid(self):
        import uuid

        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def photo(self, username):
        """Store a generated photo through the blob store; its sha256."""
        import hashlib
        import io

        body = tiny_png((self.rng.randrange(256), self.rng.randrange(256), self.rng.randrange(256)))
        sha = hashlib.sha256(body).hexdigest()
        if blobs.get(self.conn, sha) is None:
            tmp, size = blob_store.receive(
                io.BytesIO(body), self.blob_dir, sha, "image/png", 10 * 1024 * 1024
            )
            blob_store.commit(tmp, self.blob_dir, sha)
            blobs.insert(self.conn, sha, "image/png", size, self.scope(username).user_id)
        return sha

    def act(self, username, problem_id, action, **params):
        row = self.conn.execute(
            "SELECT version FROM problems WHERE id = ?", (problem_id,)
        ).fetchone()
        lifecycle.apply_action(
            self.conn, self.scope(username), problem_id, row[0], {"action": action, **params}
        )

    # --- the district ----------------------------------------------------------------
    def seed(self):
        self.units()
        self.users()
        with simulated_clock() as clock:
            self.households()
            self.problems()
            for when, _, fn in sorted(self.steps, key=lambda s: (s[0], s[1])):
                clock.current = when
                fn()
        audit.record(
            self.conn,
            actor=None,
            action="demo.seed",
            target="370303",
            details={"households": len(self.household_ids)},
        )

    def units(self):
        code, name = demo_data.DISTRICT
        unit_store.upsert(self.conn, code, name, "district", None)
        self.grids = []  # (grid code, community code, estate, road)
        for street, street_name, communities in demo_data.STREETS:
            unit_store.upsert(self.conn, street, street_name, "street", code)
            for community, community_name, estate, road in communities:
                unit_store.upsert(self.conn, community, community_name, "community", street)
                for g in range(1, GRIDS_PER_COMMUNITY + 1):
                    grid = f"{community}-{g:02d}"
                    unit_store.upsert(
                        self.conn, grid, f"{community_name}第{g}网格", "grid", community
                    )
                    self.grids.append((grid, community, estate, road))

    def users(self):
        for username, password, role, unit in LOGINS:
            user_store.create(
                self.conn,
                username=username,
                password_hash=hash_password(password),
                role=role,
                unit_codes=[unit] if unit else [],
                display_name=demo_data.person_name(self.rng),
            )
        staff_hash = hash_password(STAFF_PASSWORD)
        self.worker = {}
        self.secretary = {}
        self.street_admin = {}
        for grid, community, _, _ in self.grids:
            street = community[:9] + "000"
            for unit, role, book in (
                (street, "street_admin", self.street_admin),
                (community, "secretary", self.secretary),
                (grid, "grid_worker", self.worker),
            ):
                if unit in book:
                    continue
                login = next((u for u, _, r, c in LOGINS if c == unit and r == role), None)
                if login is None:
                    login = f"{role.split('_')[0]}_{unit}"
                    user_store.create(
                        self.conn,
                        username=login,
                        password_hash=staff_hash,
                        role=role,
                        unit_codes=[unit],
                        display_name=demo_data.person_name(self.rng),
                    )
                book[unit] = login

    def households(self):
        """Households per grid, created by their grid worker at the start of the season."""
        self.household_ids = []
        self.by_grid = {}
        start = self.now - timedelta(days=DAYS)
        for grid, _community, estate, road in self.grids:
            worker = self.worker[grid]
            ids = []
            for i in range(HOUSEHOLDS_PER_GRID):
                building, unit_no = int(grid[-2:]) * 2 + i // 6, i // 3 % 2 + 1
                room = f"{i % 3 + 1}0{i % 2 + 1}"
                tags = demo_data.household_tags(self.rng)
                if i == 0:
                    tags = ["elderly_alone"]
                elif i == 1:
                    tags = ["low_income", "disabled"]
                data = {
                    "grid_code": grid,
                    "address": f"{road}{self.rng.randint(1, 200)}号{estate}{building}号楼"
                    f"{unit_no}单元{room}室",
                    "building": str(building),
                    "unit_no": str(unit_no),
                    "room": room,
                    "head_name": demo_data.person_name(self.rng),
                    "phone": demo_data.phone(self.rng),
                    "members": 1 if "elderly_alone" in tags else self.rng.randint(1, 5),
                    "tags": tags,
                    "notes": "独居，子女在外地" if "elderly_alone" in tags else None,
                }
                hid = self.uuid()
                ids.append(hid)
                when = start + timedelta(hours=i, minutes=self.rng.randrange(60))
                self.at(
                    when,
                    lambda w=worker, h=hid, d=data: households.create(
                        self.conn, self.scope(w), h, d, represent=False
                    ),
                )
                self.visits(worker, hid, when)
            self.by_grid[grid] = ids
            self.household_ids += ids

    def visits(self, worker, hid, created):
        """One to three visits after the household was registered, every outcome present."""
        when = created
        for _ in range(self.rng.randint(1, 3)):
            when += timedelta(days=self.rng.randint(5, 35), minutes=self.rng.randrange(600))
            outcome = self.rng.choices(demo_data.OUTCOMES, (70, 15, 5, 5, 5))[0]
            self._visit(worker, hid, when, outcome)

    def _visit(self, worker, hid, when, outcome, vid=None, with_photo=None):
        vid = vid or self.uuid()
        photo = self.rng.random() < 0.2 if with_photo is None else with_photo
        note = self.rng.choice(demo_data.VISIT_NOTES[outcome])
        lat, lng = 36.80 + self.rng.random() / 20, 118.03 + self.rng.random() / 20

        def run():
            data = {
                "household_id": hid,
                "visited_at": when.astimezone(timeutil.SHANGHAI).replace(microsecond=0).isoformat(),
                "outcome": outcome,
                "notes": note,
                "location": {"lat": round(lat, 6), "lng": round(lng, 6), "accuracy_m": 12.0},
            }
            if photo:
                data["photos"] = [self.photo(worker)]
            visits.create(self.conn, self.scope(worker), vid, data, represent=False)

        self.at(when + timedelta(minutes=3), run)
        return vid

    # --- problems in every state ------------------------------------------------------
    # (final state, the actions after reporting). Who acts is decided per action.
    STORIES = [
        ("reported", []),
        ("reported", []),
        ("rejected", [("reject", {"note": "经核实不属实"})]),
        ("accepted", ["accept"]),
        ("assigned", ["accept", "assign"]),
        ("rectifying", ["accept", "assign", "start"]),
        ("rectified", ["accept", "assign", "start", "rectify"]),
        ("closed", ["accept", "assign", "start", "rectify", "verify"]),
        ("closed+rated", ["accept", "assign", "start", "rectify", "verify", ("rate", 5)]),
        ("closed+rated", ["accept", "assign", "start", "rectify", "verify", ("rate", 4)]),
        ("reopened", ["accept", "assign", "start", "rectify", "verify", ("rate", 2), "reopen"]),
        ("verify failed", ["accept", "assign", "start", "rectify", ("verify", False)]),
        ("suspended", ["accept", "suspend"]),
        ("resumed", ["accept", "suspend", "resume"]),
        ("extended", ["accept", "extend"]),
        ("escalated community", ["accept", "escalate"]),
        ("escalated street", ["accept", "escalate", "escalate", "assign"]),
        ("overdue", ["accept", "assign", "late"]),
        ("overdue supervised", ["accept", "late", "supervise"]),
        ("supervised", ["accept", "assign", "start", "supervise"]),
    ]

    def problems(self):
        """Each story happens in each community, reported during a visit in one of its grids."""
        categories = list(demo_data.PROBLEMS)
        communities = {}
        for grid, community, *_ in self.grids:
            communities.setdefault(community, []).append(grid)
        season = self.now - timedelta(days=DAYS - 20)
        for c_index, (community, grids) in enumerate(communities.items()):
            for s_index, (story, actions) in enumerate(self.STORIES):
                grid = grids[s_index % len(grids)]
                hid = self.rng.choice(self.by_grid[grid])
                category = categories[(s_index + c_index) % len(categories)]
                spacing = (3, 40)
                if "late" in actions:
                    reported = self.now - timedelta(days=self.rng.randint(20, 40))
                elif story.startswith(("closed", "rejected")):
                    reported = season + timedelta(
                        days=self.rng.randint(0, DAYS - 45), hours=self.rng.randint(8, 10)
                    )
                else:  # still open and within its deadline: a recent one
                    reported = self.now - timedelta(
                        days=self.rng.randint(1, 2), hours=self.rng.randint(0, 12)
                    )
                    spacing = (1, 4)
                vid = self._visit(self.worker[grid], hid, reported, "met", with_photo=False)
                pid = self.uuid()
                self._report(grid, hid, vid, pid, category, reported)
                self._story(community, grid, pid, actions, reported, spacing)

    def _report(self, grid, hid, vid, pid, category, reported):
        worker = self.worker[grid]
        description = self.rng.choice(demo_data.PROBLEMS[category])
        urgency = (
            "urgent" if category.startswith("safety") and self.rng.random() < 0.3 else "normal"
        )

        def run():
            data = {
                "grid_code": grid,
                "category": category,
                "description": description,
                "visit_id": vid,
                "household_id": hid,
                "source": "visit",
                "urgency": urgency,
                "photos_before": [self.photo(worker)],
            }
            problems.create(self.conn, self.scope(worker), pid, data, represent=False)

        self.at(reported + timedelta(minutes=10), run)

    def _story(self, community, grid, pid, actions, reported, spacing):
        street = community[:9] + "000"
        when = reported + timedelta(minutes=30)
        level = ["grid"]
        for step in actions:
            if step == "late":
                continue  # the problem just sits past its due date
            name, arg = step if isinstance(step, tuple) else (step, None)
            when += timedelta(hours=self.rng.randint(*spacing))
            params = {}
            actor = (
                self.secretary[community]
                if level[0] in ("grid", "community")
                else self.street_admin[street]
            )
            if name == "reject":
                params = arg
            elif name == "assign":
                unit = {"grid": grid, "community": community, "street": street}[level[0]]
                params = {
                    "responsible_unit": unit,
                    "responsible_person": demo_data.person_name(self.rng),
                }
            elif name in ("start", "rectify"):
                actor = self.worker[grid]
                if name == "rectify":
                    params = {
                        "measures": self.rng.choice(demo_data.MEASURES),
                        "cost_share": {
                            "resident": float(self.rng.randint(0, 100)),
                            "society": float(self.rng.randint(0, 300)),
                            "subsidy": float(self.rng.randint(100, 2000)),
                        },
                        "note": "已整改完毕",
                    }
            elif name == "verify":
                params = {
                    "ok": arg is not False,
                    "note": "现场核验通过" if arg is not False else "整改不到位，退回重办",
                }
            elif name == "rate":
                params = {"rating": arg, "rating_comment": "非常满意" if arg >= 4 else "处理太慢"}
            elif name == "extend":
                params = {"due_at": None, "reason": "需协调供电公司，延期办理"}
            elif name == "escalate":
                params = {"note": "社区无法协调，提请上级处理"}
                level[0] = {"grid": "community", "community": "street"}[level[0]]
            elif name == "suspend":
                params = {"note": "等待老旧小区改造立项"}
            elif name == "supervise":
                actor = "district"
                params = {"note": "请加快办理，按期反馈"}
            self.at(when, self._action(actor, pid, name, params, grid))

    def _action(self, actor, pid, name, params, grid):
        def run():
            p = dict(params)
            if name == "rectify":
                p["photos_after"] = [self.photo(self.worker[grid])]
            if name == "extend":
                row = self.conn.execute(
                    "SELECT due_at FROM problems WHERE id = ?", (pid,)
                ).fetchone()
                due = timeutil.parse_iso(row[0]) + timedelta(days=7)
                p["due_at"] = due.astimezone(timeutil.SHANGHAI).isoformat()
            self.act(actor, pid, name, **p)

        return run
