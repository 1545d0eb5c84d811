"""Schema versions. Each migration runs once, in order, tracked by PRAGMA user_version.

Append new migrations at the end of MIGRATIONS; never edit one that has shipped.
"""

import uuid

from .categories_seed import seed_categories
from .db import write_tx

V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('district', 'street', 'community', 'grid')),
    parent_code TEXT REFERENCES units(code),
    path TEXT NOT NULL,               -- '/<root code>/.../<code>/': subtree = path LIKE prefix%
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX units_parent ON units(parent_code);
CREATE INDEX units_path ON units(path);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('grid_worker', 'secretary', 'street_admin', 'district_admin', 'admin')),
    active INTEGER NOT NULL DEFAULT 1,
    token_generation INTEGER NOT NULL DEFAULT 0,  -- bumped to revoke every token of the user
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE user_units (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    unit_code TEXT NOT NULL REFERENCES units(code),
    PRIMARY KEY (user_id, unit_code)
);
CREATE INDEX user_units_unit ON user_units(unit_code);

CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    access_jti TEXT NOT NULL,
    device_id TEXT,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rotated_at TEXT,
    revoked_at TEXT
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at TEXT NOT NULL);
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at REAL NOT NULL                  -- unix time
);
CREATE INDEX login_failures_username ON login_failures(username, at);
CREATE INDEX login_failures_ip ON login_failures(ip, at);

CREATE TABLE categories (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES categories(code),
    working_days INTEGER,
    sort INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE calendar_overrides (
    date TEXT PRIMARY KEY,            -- YYYY-MM-DD
    is_workday INTEGER NOT NULL,
    name TEXT
);

-- Every change to a syncable record takes the next seq and writes a row here in the
-- same transaction; a pull reads it by (grid_code, seq). A household that moves grid
-- writes one row for the old grid and one for the new.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL CHECK (entity IN ('household', 'visit', 'problem')),
    record_id TEXT NOT NULL,
    grid_code TEXT NOT NULL
);
CREATE INDEX changes_grid_seq ON changes(grid_code, seq);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    grid_code TEXT NOT NULL REFERENCES units(code),
    address TEXT NOT NULL,
    building TEXT,
    unit_no TEXT,
    room TEXT,
    head_name TEXT,
    phone TEXT,
    members INTEGER,
    tags TEXT NOT NULL DEFAULT '[]',          -- JSON list of tag codes
    notes TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    field_versions TEXT NOT NULL DEFAULT '{}', -- JSON {field: version that last changed it}
    create_hash TEXT,                          -- sha256 of the create's data (duplicate check)
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_at_client TEXT,
    updated_at_client TEXT,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX households_grid ON households(grid_code, deleted);
CREATE INDEX households_match ON households(grid_code, address, building, unit_no, room);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    grid_code TEXT NOT NULL,                   -- the household's grid when visited
    visitor_id TEXT NOT NULL REFERENCES users(id),
    visited_at TEXT NOT NULL,                  -- as sent (aware ISO 8601)
    visited_at_utc TEXT NOT NULL,              -- sortable, for filters
    outcome TEXT NOT NULL,
    notes TEXT,
    lat REAL, lng REAL, accuracy_m REAL,
    photos TEXT NOT NULL DEFAULT '[]',
    create_hash TEXT,
    received_at TEXT NOT NULL,
    created_at_client TEXT,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX visits_grid_time ON visits(grid_code, visited_at_utc);
CREATE INDEX visits_household ON visits(household_id, visited_at_utc);

CREATE TABLE problem_counters (
    community_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (community_code, year)
);

CREATE TABLE problems (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    visit_id TEXT REFERENCES visits(id),
    household_id TEXT REFERENCES households(id),
    grid_code TEXT NOT NULL REFERENCES units(code),
    community_code TEXT NOT NULL,
    source TEXT NOT NULL,
    category TEXT NOT NULL REFERENCES categories(code),
    description TEXT NOT NULL,
    urgency TEXT NOT NULL DEFAULT 'normal',
    lat REAL, lng REAL, accuracy_m REAL,
    photos_before TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'reported',
    suspended_from TEXT,                       -- status to return to on resume
    suspended_at TEXT,
    level TEXT NOT NULL DEFAULT 'grid',
    responsible_unit TEXT,
    responsible_person TEXT,
    responsible_user_id TEXT,
    measures TEXT,
    accepted_at TEXT,
    due_at TEXT,
    due_estimated INTEGER NOT NULL DEFAULT 0,
    rectified_at TEXT,
    photos_after TEXT NOT NULL DEFAULT '[]',
    verified_by TEXT,
    verified_at TEXT,
    closed_at TEXT,
    rating INTEGER,
    rating_comment TEXT,
    cost_share_resident REAL,
    cost_share_society REAL,
    cost_share_subsidy REAL,
    supervised INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    create_hash TEXT,
    created_by TEXT,
    reported_at TEXT NOT NULL,                 -- = created_at; lists filter on it
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    created_at_client TEXT,
    updated_at_client TEXT,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX problems_grid_reported ON problems(grid_code, reported_at);
CREATE INDEX problems_community_reported ON problems(community_code, reported_at);
CREATE INDEX problems_status ON problems(status, due_at);

CREATE TABLE problem_events (
    id TEXT PRIMARY KEY,
    problem_id TEXT NOT NULL REFERENCES problems(id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    at TEXT NOT NULL,
    note TEXT,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX problem_events_problem ON problem_events(problem_id, at);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_by TEXT,
    created_at TEXT NOT NULL
);
-- Which records reference which photo: photos_missing and blob read access.
CREATE TABLE photo_refs (
    sha256 TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    grid_code TEXT NOT NULL,
    PRIMARY KEY (sha256, entity, record_id)
);
CREATE INDEX photo_refs_record ON photo_refs(entity, record_id);

-- Push bookkeeping: one row per (user, Idempotency-Key), one per applied op_id.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    started_at REAL NOT NULL,         -- unix time, for stale in-flight marks
    response TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE TABLE push_ops (
    user_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    result TEXT NOT NULL,             -- JSON of the first result
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, op_id)
);

-- Pull cursors remember the scope (grid set) they were issued for.
CREATE TABLE scope_snapshots (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    grids_hash TEXT NOT NULL,
    grids TEXT NOT NULL,              -- JSON list of grid codes
    UNIQUE (user_id, grids_hash)
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    at TEXT NOT NULL,
    ip TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action, id);
"""


def _v1(conn):
    for statement in _split(V1_SCHEMA):
        conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('database_id', ?)", (uuid.uuid4().hex,))
    seed_categories(conn)


def _split(script):
    """Split a DDL script on ';' at line ends (no ';' inside our statements)."""
    parts, buf = [], []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip()
        if not stripped:
            continue
        buf.append(stripped)
        if stripped.endswith(";"):
            parts.append("\n".join(buf))
            buf = []
    return parts


def _v2_list_indexes(conn):
    """Indexes of the secretaries' lists and roll-ups (measured: docs/lists.md).

    - problems(community_code, reported_at, number): the problem and rectification lists
      read in this order with keyset paging, so a page or an export never sorts.
    - visits(household_id, outcome, visited_at_utc): "visited in the period" is answered
      from the index alone (district roll-up 1.9 s → 1.1 s at 250k households / 1M visits).
    """
    conn.execute(
        "CREATE INDEX IF NOT EXISTS problems_community_list"
        " ON problems(community_code, reported_at, number)"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS visits_met ON visits(household_id, outcome, visited_at_utc)"
    )


def _v3_last_met(conn):
    """households.last_met_at: the latest `met` visit, kept by triggers on visits.

    Lets a roll-up decide "visited in [from, to]" from an index for every household whose
    last met visit is not after `to` (all of them for open-ended periods); only households
    met again after `to` still need the per-household visit probe.
    """
    conn.execute("ALTER TABLE households ADD COLUMN last_met_at TEXT")
    conn.execute(
        "UPDATE households SET last_met_at = (SELECT max(v.visited_at_utc) FROM visits v"
        " WHERE v.household_id = households.id AND v.outcome = 'met')"
    )
    conn.execute("CREATE INDEX households_grid_met ON households(grid_code, deleted, last_met_at)")
    conn.execute(
        "CREATE TRIGGER visits_last_met_insert AFTER INSERT ON visits"
        " WHEN NEW.outcome = 'met' BEGIN"
        " UPDATE households SET last_met_at = NEW.visited_at_utc WHERE id = NEW.household_id"
        " AND (last_met_at IS NULL OR last_met_at < NEW.visited_at_utc); END"
    )
    conn.execute(
        "CREATE TRIGGER visits_last_met_update AFTER UPDATE OF household_id, outcome,"
        " visited_at_utc ON visits BEGIN"
        " UPDATE households SET last_met_at = (SELECT max(v.visited_at_utc) FROM visits v"
        " WHERE v.household_id = households.id AND v.outcome = 'met')"
        " WHERE id IN (OLD.household_id, NEW.household_id); END"
    )


def _v4_problem_rollup_index(conn):
    """A covering index for the roll-ups' problem counts (storage/summary.problems_by_child).

    The summary counts problems per (grid, category) with the status, period, due, rectified,
    supervised and rating columns; read from this index instead of the 100,000 table rows the
    district's problem counts took ~280 → ~90 ms (full bench district, docs/benchmarks.md).
    """
    conn.execute(
        "CREATE INDEX IF NOT EXISTS problems_rollup ON problems(grid_code, category,"
        " deleted, status, reported_at, due_at, rectified_at, supervised, rating)"
    )


def _v5_problem_queue_indexes(conn):
    """Covering indexes of the problem queue (services/problem_queue.py: GET /problems and the
    console's 问题清单), so neither its page nor its ten counts read table rows.

    - (grid_code, deleted, reported_at, id, …): a page is the ids of the newest 50 of the
      scope's grids, sorted from the index alone; then 50 rows are read.
    - (grid_code, deleted, status, due_at, …): each queue's count seeks its statuses (and due
      range) per grid instead of scanning the scope's problems; with deleted before status the
      planner prefers it for status queries even without ANALYZE statistics.
    """
    conn.execute(
        "CREATE INDEX IF NOT EXISTS problems_queue_order ON problems(grid_code, deleted,"
        " reported_at, id, status, due_at, supervised, category, source)"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS problems_queue_count ON problems(grid_code, deleted,"
        " status, due_at, supervised, category, source, reported_at)"
    )


# The Monday (YYYY-MM-DD) of the Asia/Shanghai ISO week of a stored UTC datetime; the trend
# query (storage/trends.py) uses the same text so SQLite matches it to the indexes below.
def week_of(column):
    return f"date(substr({column}, 1, 19), '+8 hours', 'weekday 0', '-6 days')"


def _v6_problem_week_indexes(conn):
    """Indexes on the week of a problem's report and of its rectification (storage/trends.py,
    the 统计 page's found/rectified per week).

    Ordered by the week itself, so the per-week counts need no sort of every problem of the
    subtree: the district's two series took ~700 and ~460 ms grouped from problems_rollup,
    ~150 and ~70 ms from these (full bench district, 2 cores at load 16).
    """
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS problems_found_week ON problems(deleted,"
        f" {week_of('reported_at')}, grid_code, reported_at, status)"
        " WHERE status != 'rejected'"
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS problems_done_week ON problems(deleted,"
        f" {week_of('rectified_at')}, grid_code, rectified_at, status)"
        " WHERE status IN ('rectified', 'closed') AND rectified_at IS NOT NULL"
    )


def _v7_drop_visits_household(conn):
    """Drop visits(household_id, visited_at_utc): visits_met (household_id, outcome,
    visited_at_utc) leads with the same column and answers every query that used it (a
    household's visits, its last visit, the ledger's visits of listed households: a few rows
    per household, sorted after the seek; the foreign key's lookups).

    Each new visit put an entry at a random place in both (household ids are random UUIDs), so
    each dirtied a page of its own: a 500-item records push at the full bench district wrote
    1,828 pages, 1,508 without this index (docs/benchmarks.md, "Third step").
    """
    conn.execute("DROP INDEX IF EXISTS visits_household")


MIGRATIONS = [
    _v1,
    _v2_list_indexes,
    _v3_last_met,
    _v4_problem_rollup_index,
    _v5_problem_queue_indexes,
    _v6_problem_week_indexes,
    _v7_drop_visits_household,
]


def current_version(conn):
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn):
    """Bring the database to the latest version; returns the versions applied."""
    applied = []
    with write_tx(conn):
        version = current_version(conn)
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            migration(conn)
            conn.execute(f"PRAGMA user_version = {number}")
            applied.append(number)
    return applied
