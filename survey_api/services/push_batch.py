"""One push inside its write transaction: its lookups made once, its creates written in bulk.

A PushBatch answers the questions the creates of a push ask (services/creates.Lookups has the
same methods, answered one query at a time) from one round of queries for the whole batch:

- may_exist(table, id): False for a create's id that no row had when the push started and no
  item of this push has created since (then the duplicate check needs no query);
- household(id): {id, grid_code, deleted} of a household a visit or problem names;
- visit(id): {grid_code, household_id} of a visit a problem names (visits never change);
- holds_grid(code), and the grids named by the items (creates.writable_grid's memo).

A create that passed every check is not written at once: add_household/add_visit/add_problem
keep its row, and flush() writes all kept rows with one executemany per table (the change
log, households, visits, problems, their report events, the problem counters). Items that
read or write the database in their own way (update, delete, action, a duplicate check of an
id this push created) call flush() first, so the database they see is the one the items
before them left, exactly as if every item had been written on its own. A kept create has
passed every check, so writing it cannot fail but for a bug (then the whole push rolls back).
"""

from .. import ids
from ..storage import changes as change_store
from ..storage import households as household_store
from ..storage import problems as problem_store
from ..storage import visits as visit_store
from ..timeutil import iso, local_date, now
from . import creates

TABLES = {"household": "households", "visit": "visits", "problem": "problems"}
CHUNK = 500  # ids per IN (...) query


# The creates whose rows a push builds before its write lock, and the storage that builds them.
_ROW_STORES = {"household": household_store, "visit": visit_store}


def new_row(entity, new):
    """Set new.row: what a household or visit create will insert, as far as it follows from the
    create alone (JSON columns, field versions, the visit's UTC time). A push builds it while
    it prepares, before its write lock; flush() only adds the seq, the time, the writer and the
    visit's household (storage's with_write)."""
    store = _ROW_STORES.get(entity)
    if store is not None and new.fields is not None:
        new.row = _built_row(store, new, new.fields)


class PushBatch:
    def __init__(self, conn, scope, items):
        """items: the push's creates.NewRecord-carrying items still to apply (see push.py)."""
        self.conn = conn
        self.scope = scope
        grids = scope.grids()
        self._grids = None if grids is None else set(grids)
        self._now = now()
        self._ts = iso(self._now)
        self._year = local_date(self._now).year
        candidates = {table: set() for table in TABLES.values()}
        household_refs, visit_refs, grid_codes = set(), set(), set()
        self._live = set()  # households some item updates or deletes: read them live
        for item in items:
            if item.new is not None:
                if item.new.id is not None:
                    candidates[TABLES[item.entity]].add(item.new.id)
                fields = item.new.fields or {}
                household_refs.add(fields.get("household_id"))
                visit_refs.add(fields.get("visit_id"))
                grid_codes.add(fields.get("grid_code"))
            elif item.entity == "household":
                self._live.add(item.id)
        self._absent = {
            table: ids - set(self._select(f"SELECT id FROM {table}", ids))
            for table, ids in candidates.items()
        }
        household_refs.discard(None)
        visit_refs.discard(None)
        grid_codes.discard(None)
        self._households = {}
        for row in self._select(
            "SELECT id, grid_code, deleted FROM households", household_refs - self._live
        ):
            self._households[row[0]] = {"id": row[0], "grid_code": row[1], "deleted": row[2]}
        self._households.update(
            (h, None) for h in household_refs - self._live - set(self._households)
        )
        self._visits = {
            row[0]: {"grid_code": row[1], "household_id": row[2]}
            for row in self._select("SELECT id, grid_code, household_id FROM visits", visit_refs)
        }
        creates.remember_grids(conn, scope, grid_codes)
        self._created = set()  # ids kept since the last flush
        self._households_new, self._visits_new, self._problems_new = [], [], []
        self._changes = []
        self._lasts = {}  # (community, year) → last number drawn by this push

    def _select(self, sql, ids):
        ids = list(ids)
        rows = []
        for i in range(0, len(ids), CHUNK):
            chunk = ids[i : i + CHUNK]
            rows.extend(
                self.conn.execute(
                    f"{sql} WHERE id IN ({','.join('?' * len(chunk))})", chunk
                ).fetchall()
            )
        return [row[0] for row in rows] if sql.startswith("SELECT id FROM") else rows

    # --- lookups (the creates.Lookups interface) -------------------------------------------

    def may_exist(self, table, record_id):
        if record_id in self._absent[table]:
            return False
        if record_id in self._created:
            self.flush()  # the duplicate check reads the row this push kept
        return True

    def holds_grid(self, grid_code):
        return self._grids is None or grid_code in self._grids

    def household(self, household_id):
        if household_id in self._households:
            return self._households[household_id]
        self.flush()
        return household_store.get_brief(self.conn, household_id)

    def visit(self, visit_id):
        if visit_id in self._visits:
            return self._visits[visit_id]
        return visit_store.get_row(self.conn, visit_id)

    def changed_household(self, household_id):
        """A household item changed it (or failed to): read it live from now on."""
        self._households.pop(household_id, None)

    # --- kept creates -----------------------------------------------------------------------

    def _keep(self, table, entity, record_id, grid_code):
        self._absent[table].discard(record_id)
        self._created.add(record_id)
        self._changes.append((entity, record_id, grid_code))

    def add_household(self, new, fields):
        self._keep("households", "household", new.id, fields["grid_code"])
        self._households_new.append((new, fields))
        if new.id not in self._live:
            self._households[new.id] = {
                "id": new.id,
                "grid_code": fields["grid_code"],
                "deleted": 0,
            }

    def add_visit(self, new, fields, household):
        self._keep("visits", "visit", new.id, household["grid_code"])
        self._visits_new.append((new, fields, household["grid_code"]))
        self._visits[new.id] = {
            "grid_code": household["grid_code"],
            "household_id": household["id"],
        }

    def add_problem(self, new, fields):
        key = (fields["community_code"], self._year)
        if key not in self._lasts:
            self._lasts[key] = problem_store.last_number(self.conn, *key)
        self._lasts[key] += 1
        number = problem_store.number_text(*key, self._lasts[key])
        self._keep("problems", "problem", new.id, fields["grid_code"])
        self._problems_new.append((new, fields, number))

    def flush(self):
        """Write every kept create: one executemany per table, in the items' order of seqs."""
        if not self._changes:
            return
        conn, ts, user_id = self.conn, self._ts, self.scope.user_id
        seq = dict(
            zip(
                ((entity, record_id) for entity, record_id, _ in self._changes),
                change_store.record_many(conn, self._changes),
                strict=True,
            )
        )
        households = [
            household_store.with_write(
                _row(new, fields, household_store),
                seq=seq["household", new.id],
                ts=ts,
                created_by=user_id,
            )
            for new, fields in self._households_new
        ]
        visits = [
            visit_store.with_write(
                _row(new, fields, visit_store),
                household_id=fields["household_id"],
                grid_code=grid_code,
                visitor_id=user_id,
                received_at=ts,
                seq=seq["visit", new.id],
            )
            for new, fields, grid_code in self._visits_new
        ]
        problems = [
            problem_store.row_values(new.id, number, fields, ts=ts, seq=seq["problem", new.id])
            for new, fields, number in self._problems_new
        ]
        change_store.insert_rows(conn, "households", households)
        visit_store.insert_many(conn, visits)
        change_store.insert_rows(conn, "problems", problems)
        problem_store.insert_refs(conn, problems)
        problem_store.add_events(
            conn,
            [
                (ids.time_ordered(), p["id"], "report", None, "reported", user_id, ts, None, "{}")
                for p in problems
            ],
        )
        problem_store.set_last_numbers(conn, self._lasts)
        self._created.clear()
        self._households_new, self._visits_new, self._problems_new = [], [], []
        self._changes = []


def _row(new, fields, store):
    """The create's new_row: built before the lock, else now (a household's checked fields
    are the create's own; a visit's differ only in household_id, which with_write sets)."""
    return new.row if new.row is not None else _built_row(store, new, fields)


def _built_row(store, new, fields):
    return store.new_row(new.id, fields, create_hash=new.digest, created_at_client=new.at_client)
