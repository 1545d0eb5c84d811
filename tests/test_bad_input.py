"""§6 under fuzzing: every route in app.url_map, as every role, with a table of bad inputs.

Each bad request must answer a 4xx application/problem+json (type, title, status, detail,
code) and write nothing (every table's row count is the same before and after). Inputs
that are merely odd rather than invalid (an SQL-looking search string, a filter naming
nothing) may answer 2xx, but never 5xx, and still write nothing.

Failures are collected and reported together so one run shows every offending request.
"""

import os
import re
import sqlite3
from urllib.parse import quote

import pytest
from conftest import USERS, assert_problem
from list_data import build
from werkzeug.exceptions import HTTPException

ROLES = [None, *USERS]  # None: no token

SQLI = "' OR '1'='1'; DROP TABLE households;--"

# Path parameters: tricks that must never reach a record (404, or 403 for a unit).
PATH_TRICKS = [
    "not-a-uuid",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    quote(SQLI, safe=""),
    "%00",
    "%FF%FE",
    "x" * 2000,
    "00000000-0000-0000-0000-000000000000",
]
BLOB_TRICKS = ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "..%2F" + "a" * 59, "%00" + "a" * 63]

# Query parameters (by name, then by OpenAPI type): values that are invalid for them.
BAD_BY_NAME = {
    "limit": ["-1", "0", "1001", "abc", "1.5", "9" * 40, "", "1e3"],
    "cursor": [
        "garbage",
        "%00",
        "%FF",
        "A" * 5000,
        "eyJ4IjogMX0=",
        "-1",
        "WyJhIl0",
        "W251bGwsbnVsbF0",
        quote(SQLI, safe=""),
    ],
    "from": [
        "2026-13-45",
        "yesterday",
        "2026-11-01T10:00:00",
        "0000-00-00",
        "9" * 30,
        "%FF",
        "99999-01-01",
        "2026-11-01T10:00:00+99:00",
    ],
    "to": ["2026-02-30", "2026-11-01T25:00:00+08:00", "2026/11/01"],
    "household": ["not-a-uuid"],
}
BAD_BY_TYPE = {
    "integer": ["abc", "-1"],
    "boolean": ["maybe", "2", "yes please"],
    "enum": ["bogus", quote(SQLI, safe="")],
}
# Merely odd: any non-5xx answer is fine, but nothing may be written.
ODD_STRINGS = [quote(SQLI, safe=""), "%25", "x" * 3000, "%E4%B8%AD", "%FF%FE", "%00", "%zz"]

# Query strings bad on every GET route that takes limit/format/etc.
REPEATED = {
    "limit": "limit=1&limit=2",
    "format": "format=json&format=csv",
    "unmask": "unmask=true&unmask=false",
    "from": "from=2026-11-01&from=2026-12-01",
}

# JSON bodies: (description, content type, raw bytes).
BAD_BODIES = [
    ("bad json", "application/json", b'{"a": '),
    ("invalid utf-8", "application/json", b'{"a": "\xff\xfe"}'),
    ("deep nesting", "application/json", b"[" * 100 + b"]" * 100),
    ("deep object nesting", "application/json", b'{"a":' * 40 + b"1" + b"}" * 40),
    ("lone surrogate", "application/json", b'{"address": "\\ud800"}'),
    ("NaN", "application/json", b'{"members": NaN}'),
    ("wrong content type", "text/plain", b'{"a": 1}'),
    ("form content type", "application/x-www-form-urlencoded", b"a=1"),
    ("top-level array", "application/json", b"[]"),
    ("top-level string", "application/json", b'"hello"'),
    ("top-level null", "application/json", b"null"),
    ("unknown field", "application/json", b'{"zz_unknown_field": 1}'),
    (
        "wrong types",
        "application/json",
        b'{"username": 5, "password": [], "grid_code": 7, "address": {}, "members": "many",'
        b' "items": "x", "action": 9, "base_version": "one", "code": [], "name": 3,'
        b' "is_workday": "perhaps", "role": 1, "unit_codes": "x", "level": 4}',
    ),
    (
        "sql strings",
        "application/json",
        (
            '{"zz": 1, "grid_code": "%s", "address": "%s", "code": "%s", "name": "%s",'
            ' "username": "%s", "action": "%s"}' % ((SQLI.replace("'", "\\u0027"),) * 6)
        ).encode(),
    ),
]
# Refresh and logout read no body: only bodies that cannot be parsed at all apply (a
# well-formed one would log the sweeping user out).
# DELETE takes no body either (a body it ignores is left to the view).
NO_BODY_ENDPOINTS = {
    "auth.logout",
    "auth.refresh",
    "households.delete_household",
    "calendar.delete_day",
}
MALFORMED = {
    "bad json",
    "invalid utf-8",
    "deep nesting",
    "deep object nesting",
    "lone surrogate",
    "NaN",
    "wrong content type",
    "form content type",
}
OVERSIZED = b'{"a": "' + b"x" * (5 * 1024 * 1024 + 16) + b'"}'

# Endpoints taking raw (non-JSON) bodies.
RAW_BAD_BODIES = {
    "blobs.put_blob": [
        ("wrong content type", "text/plain", b"hello"),
        ("json content type", "application/json", b"{}"),
        ("magic mismatch", "image/png", b"GIF89a not a png"),
        ("empty", "image/jpeg", b""),
    ],
    "household_import.import_households": [
        ("wrong content type", "application/json", b'{"a": 1}'),
        ("garbage csv", "text/csv", b"\xff\xfe\x00garbage"),
        ("header only wrong", "text/csv", b"nope,nothing\r\n1,2\r\n"),
        (
            "garbage xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04 not a zip",
        ),
    ],
}

BAD_IF_MATCH = ["abc", "-1", "9" * 40, '"x"', "", "３", 'W/"1"', '"1']
BAD_IDEMPOTENCY_KEYS = ["short", "x" * 200, "has space inside", "tab\tkey123"]


class Sweep:
    def __init__(self, app, client, auth):
        self.app = app
        self.client = client
        self.auth = auth
        self.db = sqlite3.connect(app.config["DATABASE"])
        self.tables = [
            r[0]
            for r in self.db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        self.failures = []

    def counts(self):
        """Rows per table, and the files under the blob folder (a photo is a write too)."""
        counts = {
            t: self.db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in self.tables
        }
        counts["blob files"] = sum(
            len(files) for _d, _s, files in os.walk(self.app.config["BLOB_DIR"])
        )
        return counts

    def headers(self, role, **extra):
        return self.auth.headers(role, **extra) if role else dict(extra)

    def check(self, label, method, url, *, strict=True, **kwargs):
        before = self.counts()
        resp = self.client.open(url, method=method, **kwargs)
        after = self.counts()
        status = resp.status_code
        where = f"{label}: {method} {url[:120]}"
        # An odd input that is served may have its ordinary effects (a pull's snapshot).
        if before != after and (strict or status >= 400):
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            self.failures.append(f"{where} wrote rows {changed} ({status})")
        if status >= 500 or (strict and not 400 <= status < 500):
            self.failures.append(f"{where} -> {status} {resp.get_data(as_text=True)[:200]}")
            return
        if status >= 400 and method != "HEAD":
            body = resp.get_json(silent=True) or {}
            if (
                resp.mimetype != "application/problem+json"
                or any(not body.get(k) for k in ("type", "title", "status", "detail", "code"))
                or body.get("status") != status
            ):
                self.failures.append(
                    f"{where} -> {status} not problem+json: "
                    f"{resp.mimetype} {resp.get_data(as_text=True)[:200]}"
                )


@pytest.fixture
def sweep(app, client, auth, user_ids):
    ids = build(app.config["DATABASE"], user_ids["worker"])
    s = Sweep(app, client, auth)
    vid = s.db.execute("SELECT id FROM visits LIMIT 1").fetchone()[0]
    s.real = {
        "code": "370303001001",
        "user_id": user_ids["worker"],
        "problem_id": ids["p2"],
        "household_id": ids["h1"],
        "visit_id": vid,
        "day": "2026-11-02",
        "sha256": "a" * 64,
    }
    s.grid_code = "370303001001-01"
    yield s
    s.db.close()


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # HTML pages, not problem+json: tests/test_console_*.py
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield rule, method


def _url(rule, real, override=None, suffix=""):
    url = rule.rule
    for arg in rule.arguments:
        value = override if override is not None else real[arg]
        if override is None and arg == "code" and "grids" in rule.rule:
            value = "370303001001-01"
        value += suffix
        url = re.sub(rf"<(?:\w+:)?{arg}>", lambda _m, v=value: v, url)
    return url


def _query_params(app, client):
    """{(path, METHOD): [(name, type, enum)]} from the OpenAPI document."""
    spec = client.get("/api/v1/openapi.json").get_json()
    out = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            out[(path, method.upper())] = [
                (p["name"], p.get("schema", {}).get("type"), p.get("schema", {}).get("enum"))
                for p in op.get("parameters", [])
                if p["in"] == "query"
            ]
    return out


def _openapi_path(rule):
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)


def _sweep_role(sweep, role):
    app, client = sweep.app, sweep.client
    params = _query_params(app, client)
    for rule, method in _routes(app):
        label = f"{role or 'anonymous'} {rule.endpoint}"
        h = sweep.headers(role)
        # Path tricks.
        tricks = BLOB_TRICKS if "sha256" in rule.arguments else PATH_TRICKS
        for trick in tricks if rule.arguments else []:
            sweep.check(
                label + " path",
                method,
                _url(rule, sweep.real, trick),
                headers=h,
                json={} if method in ("POST", "PUT", "PATCH") else None,
            )
        if rule.arguments:  # a real id or code with a trailing newline is not that record
            sweep.check(
                label + " path newline",
                method,
                _url(rule, sweep.real, suffix="%0A"),
                headers=h,
                json={} if method in ("POST", "PUT", "PATCH") else None,
            )
        url = _url(rule, sweep.real)
        # Query tricks (GET).
        if method == "GET":
            for name, typ, enum in params.get((_openapi_path(rule), "GET"), []):
                bad = list(BAD_BY_NAME.get(name, []))
                if name not in BAD_BY_NAME:
                    if enum:
                        bad += BAD_BY_TYPE["enum"]
                    elif typ in BAD_BY_TYPE:
                        bad += BAD_BY_TYPE[typ]
                for value in bad:
                    sweep.check(label + f" query {name}", "GET", f"{url}?{name}={value}", headers=h)
                if name in REPEATED:
                    sweep.check(label + " repeated", "GET", f"{url}?{REPEATED[name]}", headers=h)
                if typ == "string" and not enum and name not in BAD_BY_NAME:
                    for value in ODD_STRINGS:
                        sweep.check(
                            label + f" odd {name}",
                            "GET",
                            f"{url}?{name}={value}",
                            headers=h,
                            strict=False,
                        )
            sweep.check(label + " unknown query", "GET", f"{url}?zz_unknown=1&%FF=%FE", headers=h)
        # Bodies (writes).
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            extra = {}
            if rule.endpoint == "sync.push":
                extra["Idempotency-Key"] = f"sweep-{role}-key"
            if method in ("PATCH", "DELETE") and "household" in rule.endpoint:
                extra["If-Match"] = "1"
            bodies = RAW_BAD_BODIES.get(rule.endpoint, BAD_BODIES)
            if rule.endpoint in NO_BODY_ENDPOINTS:
                bodies = [b for b in bodies if b[0] in MALFORMED]
            for desc, ctype, raw in bodies:
                sweep.check(
                    label + f" body {desc}",
                    method,
                    url,
                    data=raw,
                    headers=sweep.headers(role, **extra),
                    content_type=ctype,
                )
            if role in (None, "admin", "secretary", "worker"):
                sweep.check(
                    label + " oversized",
                    method,
                    url,
                    data=OVERSIZED,
                    headers=sweep.headers(role, **extra),
                    content_type="application/json",
                )
            if "If-Match" in extra:
                for value in BAD_IF_MATCH:
                    sweep.check(
                        label + " If-Match",
                        method,
                        url,
                        json={"zz": 1},
                        headers=sweep.headers(role, **{"If-Match": value}),
                    )
            if rule.endpoint == "sync.push":
                for key in BAD_IDEMPOTENCY_KEYS:
                    sweep.check(
                        label + " Idempotency-Key",
                        method,
                        url,
                        json={"items": [{"op_id": "x"}]},
                        headers=sweep.headers(role, **{"Idempotency-Key": key}),
                    )


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_route_rejects_bad_input(sweep, role):
    _sweep_role(sweep, role)
    assert not sweep.failures, (
        "\n".join(sweep.failures[:60]) + f"\n({len(sweep.failures)} failures)"
    )


EXTREME_DATES = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
]
PERIOD_URLS = [
    "/api/v1/problems",
    "/api/v1/visits",
    "/api/v1/audit",
    "/api/v1/communities/370303001001/problem-list",
    "/api/v1/communities/370303001001/rectification-list?format=xlsx",
    "/api/v1/grids/370303001001-01/visit-ledger?format=csv",
    "/api/v1/units/370303/summary",
]


@pytest.mark.parametrize("url", PERIOD_URLS)
def test_out_of_range_period_is_422(client, auth, url):
    """from/to at the ends of the calendar overflowed when turned into UTC bounds (500)."""
    for name in ("from", "to"):
        for value in EXTREME_DATES:
            resp = client.get(
                f"{url}{'&' if '?' in url else '?'}{name}={quote(value)}",
                headers=auth.headers("admin"),
            )
            body = resp.get_json()
            assert resp.status_code == 422 and body["code"] == "VALIDATION_ERROR", (name, value)
            assert name in body["errors"]


def test_out_of_range_datetimes_in_bodies_are_422(sweep, client, auth):
    import uuid

    h = auth.headers("worker")
    hid = sweep.real["household_id"]
    before = sweep.counts()
    for value in EXTREME_DATES[2:]:
        resp = client.post(
            "/api/v1/visits",
            headers=h,
            json={"household_id": hid, "visited_at": value, "outcome": "met"},
        )
        assert resp.status_code == 422 and "visited_at" in resp.get_json()["errors"], value
        resp = client.post(
            "/api/v1/sync/push",
            headers={**h, "Idempotency-Key": f"k-{value}"},
            json={
                "items": [
                    {
                        "op_id": str(uuid.uuid4()),
                        "entity": "visit",
                        "op": "create",
                        "id": str(uuid.uuid4()),
                        "data": {"household_id": hid, "visited_at": value, "outcome": "met"},
                    }
                ]
            },
        )
        assert resp.status_code == 200, resp.get_json()
        result = resp.get_json()["results"][0]
        assert result["status"] == "rejected" and "visited_at" in result["errors"], result
    after = sweep.counts()
    assert {t: n for t, n in after.items() if n != before[t]}.keys() <= {
        "idempotency_keys",
        "push_ops",
        "audit_log",
        "sync_results",
    }


def test_every_route_refuses_other_methods_with_405(sweep, client, auth):
    """A method a route does not take is 405 problem+json with Allow, writing nothing."""
    failures = []
    headers = auth.headers("admin")
    adapter = sweep.app.url_map.bind("localhost")
    for rule in sweep.app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("console."):
            continue  # HTML pages: tests/test_console_*.py
        url = _url(rule, sweep.real)
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - rule.methods):
            try:  # another rule may take the method on this path (/households/<id>: import)
                adapter.match(url, method)
                continue
            except HTTPException:  # MethodNotAllowed: this method is refused here
                pass
            before = sweep.counts()
            resp = client.open(url, method=method, json={}, headers=headers)
            body = resp.get_json(silent=True) or {}
            if (
                resp.status_code != 405
                or body.get("code") != "METHOD_NOT_ALLOWED"
                or "Allow" not in resp.headers
                or sweep.counts() != before
            ):
                failures.append(f"{method} {url} -> {resp.status_code} {body}")
    assert not failures, "\n".join(failures)


WRONG_VALUES = [
    None,
    True,
    0,
    -1,
    10**20,
    1.5,
    "",
    "x" * 5000,
    [],
    {},
    SQLI,
    "\u0000",
    ["x"],
    {"a": 1},
    "2026-13-45T99:00:00+08:00",
]


def _templates(real, grid):
    """(role, method, url, headers, a valid-looking body) for every JSON write endpoint."""
    import uuid

    hid, pid = real["household_id"], real["problem_id"]
    household = {
        "grid_code": grid,
        "address": "杏园路9号",
        "building": "1",
        "unit_no": "1",
        "room": "101",
        "head_name": "张三",
        "phone": "13800000000",
        "members": 2,
        "tags": ["elderly"],
        "notes": "n",
    }
    visit = {
        "household_id": hid,
        "visited_at": "2026-11-05T09:00:00+08:00",
        "outcome": "met",
        "notes": "n",
        "location": {"lat": 36.8, "lng": 118.0, "accuracy_m": 5},
        "photos": ["a" * 64],
    }
    problem = {
        "grid_code": grid,
        "category": "other.other",
        "description": "d",
        "urgency": "normal",
        "source": "visit",
        "household_id": hid,
        "location": {"lat": 36.8, "lng": 118.0, "accuracy_m": 5},
        "photos_before": ["b" * 64],
    }
    return [
        (
            "admin",
            "POST",
            "/api/v1/units",
            {},
            {
                "code": "370303001001-09",
                "name": "九",
                "level": "grid",
                "parent_code": "370303001001",
            },
        ),
        ("admin", "PATCH", "/api/v1/units/370303001001-02", {}, {"name": "二"}),
        (
            "admin",
            "POST",
            "/api/v1/users",
            {},
            {
                "username": "zz",
                "password": "long-password",
                "role": "secretary",
                "unit_codes": ["370303001001"],
                "display_name": "Z",
            },
        ),
        (
            "admin",
            "PATCH",
            f"/api/v1/users/{real['user_id']}",
            {},
            {"display_name": "W", "unit_codes": ["370303001001-01"]},
        ),
        (
            "admin",
            "POST",
            "/api/v1/categories",
            {},
            {"code": "other.zz", "name": "x", "parent_code": "other", "working_days": 3},
        ),
        ("admin", "PATCH", "/api/v1/categories/other.other", {}, {"name": "x", "working_days": 3}),
        ("admin", "PUT", "/api/v1/calendar/2027-01-04", {}, {"is_workday": True, "name": "x"}),
        ("secretary", "POST", "/api/v1/households", {}, household),
        (
            "secretary",
            "PATCH",
            f"/api/v1/households/{hid}",
            {"If-Match": "1"},
            {"notes": "m", "members": 3, "tags": ["veteran"]},
        ),
        ("worker", "POST", "/api/v1/visits", {}, visit),
        ("worker", "POST", "/api/v1/problems", {}, problem),
        (
            "secretary",
            "POST",
            f"/api/v1/problems/{pid}/actions",
            {},
            {
                "action": "rectify",
                "base_version": 1,
                "measures": "m",
                "photos_after": ["c" * 64],
                "cost_share": {"resident": 1, "society": 2, "subsidy": 3},
                "note": "n",
            },
        ),
        (
            "worker",
            "POST",
            "/api/v1/sync/push",
            {"Idempotency-Key": "fuzz-key"},
            {
                "device_id": "d",
                "device_time": "2026-11-27T09:00:00+08:00",
                "items": [
                    {
                        "op_id": str(uuid.uuid4()),
                        "entity": "household",
                        "op": "create",
                        "id": str(uuid.uuid4()),
                        "at_client": "2026-11-27T09:00:00+08:00",
                        "data": dict(household, address="杏园路10号"),
                    }
                ],
            },
        ),
    ]


def _mutations(body):
    """(path, mutated body) pairs: each field (and each push item/data field) dropped, set to
    each wrong value, and an unknown field added at every level."""
    import copy

    def walk(node, path):
        if not isinstance(node, dict):
            return
        yield path + ("zz_unknown",), "add", 1
        for key, value in node.items():
            yield path + (key,), "drop", None
            for wrong in WRONG_VALUES:
                yield path + (key,), "set", wrong
            if isinstance(value, str):  # '$' in a pattern lets a trailing newline through
                yield path + (key,), "set", value + "\n"
            if isinstance(value, dict):
                yield from walk(value, path + (key,))
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                yield from walk(value[0], path + (key, 0))

    for path, how, value in walk(body, ()):
        mutated = copy.deepcopy(body)
        node = mutated
        for step in path[:-1]:
            node = node[step]
        if how == "drop":
            del node[path[-1]]
        else:
            node[path[-1]] = value
        yield ".".join(map(str, path)) + f" {how} {str(value)[:20]!r}", mutated


def test_mutated_bodies_never_500(sweep, client, auth):
    """Each write endpoint with a valid-looking body, one field at a time wrong: a 4xx is a
    problem+json that wrote nothing; a 2xx (the mutation was valid after all) is fine."""
    failures = []
    for n, (role, method, url, extra, body) in enumerate(_templates(sweep.real, sweep.grid_code)):
        headers = auth.headers(role, **extra)
        for i, (label, mutated) in enumerate(_mutations(body)):
            if "Idempotency-Key" in extra:
                headers["Idempotency-Key"] = f"fuzz-{n}-{i}"
            before = sweep.counts()
            resp = client.open(url, method=method, json=mutated, headers=headers)
            status = resp.status_code
            where = f"{role} {method} {url} {label} -> {status}"
            if status >= 500:
                failures.append(f"{where} {resp.get_data(as_text=True)[:200]}")
            elif status >= 400:
                if resp.mimetype != "application/problem+json":
                    failures.append(f"{where} not problem+json")
                if sweep.counts() != before:
                    failures.append(f"{where} wrote rows")
            elif status == 200 and url.endswith("/sync/push"):
                for result in resp.get_json()["results"]:
                    if result["status"] not in ("applied", "duplicate") and not result.get("code"):
                        failures.append(f"{where} result without code {result}")
    assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} failures)"


# --- Appendix B: the loose limits ----------------------------------------------------------


def _no_writes(sweep, before, where):
    after = sweep.counts()
    assert after == before, (
        where,
        {t: (before[t], after[t]) for t in before if before[t] != after[t]},
    )


DUPLICATE_KEY_BODIES = [
    ("POST", "/api/v1/auth/login", b'{"username": "admin", "username": "worker", "password": "x"}'),
    (
        "POST",
        "/api/v1/households",
        '{"grid_code": "370303001001-01", "address": "杏园路1号", "address": "杏园路2号"}'.encode(),
    ),
    ("POST", "/api/v1/visits", b'{"outcome": "met", "location": {"lat": 1, "lat": 2}}'),
    ("POST", "/api/v1/sync/push", b'{"items": [{"op_id": "a", "op_id": "b"}]}'),
    ("PATCH", "/api/v1/units/370303001001-02", '{"name": "一", "name": "二"}'.encode()),
]


@pytest.mark.parametrize(
    "method, url, raw", DUPLICATE_KEY_BODIES, ids=[f"{m} {u}" for m, u, _r in DUPLICATE_KEY_BODIES]
)
def test_duplicate_key_is_400(sweep, auth, method, url, raw):
    """{"a": 1, "a": 2} is malformed: the last one must not silently win."""
    headers = auth.headers("admin", **{"Idempotency-Key": "dup-key-1"})
    before = sweep.counts()
    resp = sweep.client.open(
        url, method=method, data=raw, content_type="application/json", headers=headers
    )
    body = assert_problem(resp, 400, "MALFORMED_BODY")
    assert "repeats the key" in body["detail"]
    _no_writes(sweep, before, url)


def test_patch_with_nothing_to_change_is_422(sweep, auth):
    h = auth.headers("admin")
    patches = [
        f"/api/v1/units/{sweep.real['code']}",
        f"/api/v1/users/{sweep.real['user_id']}",
        "/api/v1/categories/other.other",
        f"/api/v1/households/{sweep.real['household_id']}",
    ]
    patch_rules = {r.rule for r in sweep.app.url_map.iter_rules() if "PATCH" in r.methods}
    assert len(patch_rules) == len(patches)  # a new PATCH endpoint belongs in this list
    for url in patches:
        for kwargs in ({"json": {}}, {}, {"data": b"{ }", "content_type": "application/json"}):
            before = sweep.counts()
            resp = sweep.client.patch(url, headers={**h, "If-Match": "1"}, **kwargs)
            assert_problem(resp, 422, "VALIDATION_ERROR")
            _no_writes(sweep, before, url)


CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]
ACCEPTED_TEXT = [
    "独居老人，身体尚好😀",
    "𠀀𪚥 (CJK extension B)",
    "第一行\n第二行\r\n\t缩进",
    "👨‍👩‍👧 family",
    "ㄅㄆㄇ 한국어 にほんご",
]


def _text_writes(real):
    """(user, method, url, body with {text} in a text field, the field)."""
    hid = real["household_id"]
    return [
        (
            "secretary",
            "POST",
            "/api/v1/households",
            {"grid_code": "370303001001-01", "address": "杏园路{text}"},
            "address",
        ),
        (
            "secretary",
            "POST",
            "/api/v1/households",
            {"grid_code": "370303001001-01", "address": "杏园路9号", "notes": "{text}"},
            "notes",
        ),
        (
            "worker",
            "POST",
            "/api/v1/visits",
            {
                "household_id": hid,
                "visited_at": "2026-11-05T09:00:00+08:00",
                "outcome": "met",
                "notes": "{text}",
            },
            "notes",
        ),
        (
            "worker",
            "POST",
            "/api/v1/problems",
            {"grid_code": "370303001001-01", "category": "other.other", "description": "{text}"},
            "description",
        ),
        ("admin", "PATCH", "/api/v1/units/370303001001-02", {"name": "二{text}"}, "name"),
    ]


def _fill(body, text):
    return {k: v.replace("{text}", text) if isinstance(v, str) else v for k, v in body.items()}


def test_control_characters_in_text_are_422(sweep, auth):
    for user, method, url, body, field in _text_writes(sweep.real):
        headers = auth.headers(user)
        for char in CONTROL:
            before = sweep.counts()
            resp = sweep.client.open(
                url, method=method, json=_fill(body, f"a{char}b"), headers=headers
            )
            problem = assert_problem(resp, 422, "VALIDATION_ERROR")
            assert field in problem["errors"], (url, repr(char), problem)
            _no_writes(sweep, before, url)


def test_control_characters_in_a_push_item_reject_that_item(sweep, auth):
    import uuid

    resp = sweep.client.post(
        "/api/v1/sync/push",
        headers=auth.headers("worker", **{"Idempotency-Key": "control-chars-1"}),
        json={
            "items": [
                {
                    "op_id": str(uuid.uuid4()),
                    "entity": "household",
                    "op": "create",
                    "id": str(uuid.uuid4()),
                    "data": {"grid_code": "370303001001-01", "address": "杏园路\x1b9号"},
                }
            ]
        },
    )
    assert resp.status_code == 200, resp.get_json()
    [result] = resp.get_json()["results"]
    assert result["status"] == "rejected" and "address" in result["errors"], result


def test_emoji_cjk_tab_and_newlines_are_text(sweep, auth):
    for user, method, url, body, field in _text_writes(sweep.real):
        for text in ACCEPTED_TEXT:
            resp = sweep.client.open(
                url, method=method, json=_fill(body, text), headers=auth.headers(user)
            )
            assert resp.status_code in (200, 201), (url, text, resp.get_json())
            assert text in resp.get_json()[field]


def _period_endpoints(sweep):
    """Every GET endpoint whose OpenAPI parameters hold both from and to."""
    spec = sweep.client.get("/api/v1/openapi.json").get_json()
    out = []
    for path, ops in spec["paths"].items():
        names = {p["name"] for p in ops.get("get", {}).get("parameters", [])}
        if {"from", "to"} <= names:
            url = path.replace("{code}", "370303001001").replace("{unit_code}", "370303")
            if "/grids/" in path:
                url = path.replace("{code}", "370303001001-01")
            out.append(url)
    return out


def test_from_after_to_is_422_on_every_endpoint_taking_both(sweep, auth):
    urls = _period_endpoints(sweep)
    assert len(urls) >= 8, urls  # problems, visits, audit, calendar, 3 lists, summary
    h = auth.headers("admin")
    for url in urls:
        for lo, hi in (
            ("2026-11-02", "2026-11-01"),
            ("2026-11-01T10:00:00+08:00", "2026-11-01T09:59:59+08:00"),
            ("2026-11-02", "2026-11-01T23:59:59+08:00"),
            ("2026-11-01T00:00:00+00:00", "2026-11-01"),
        ):  # 08:00 Shanghai: fine
            resp = sweep.client.get(url, query_string={"from": lo, "to": hi}, headers=h)
            if hi == "2026-11-01" and lo.endswith("+00:00"):
                assert resp.status_code == 200, (url, lo, hi, resp.get_json())
                continue
            body = assert_problem(resp, 422, "VALIDATION_ERROR")
            assert "from" in body["errors"], (url, body)
        # the same day as from and to is one day, not an error
        resp = sweep.client.get(
            url, query_string={"from": "2026-11-01", "to": "2026-11-01"}, headers=h
        )
        assert resp.status_code == 200, (url, resp.get_json())


def test_unknown_query_parameter_is_422_naming_it_on_every_route(sweep, auth):
    """A typo like ?stauts= must not silently return everything."""
    failures = []
    h = auth.headers("admin", **{"If-Match": "1", "Idempotency-Key": "unknown-query-1"})
    for rule, method in _routes(sweep.app):
        url = _url(rule, sweep.real) + "?stauts=open"
        headers = h
        if rule.endpoint == "auth.refresh":
            refresh = auth.tokens("admin")["refresh_token"]
            headers = {**h, "Authorization": f"Bearer {refresh}"}
        before = sweep.counts()
        resp = sweep.client.open(
            url,
            method=method,
            headers=headers,
            json={} if method in ("POST", "PUT", "PATCH") else None,
        )
        body = resp.get_json(silent=True) or {}
        named = method == "HEAD" or "stauts" in body.get("errors", {})
        if resp.status_code != 422 or not named or sweep.counts() != before:
            failures.append(f"{method} {url} -> {resp.status_code} {body}")
    assert not failures, "\n".join(failures)


def test_known_query_parameters_still_work(client, auth):
    h = auth.headers("secretary")
    for url in (
        "/api/v1/problems?status=reported&limit=5",
        "/api/v1/households?q=x&unmask=0",
        "/api/v1/communities/370303001001/problem-list?status=closed,rejected",
        "/api/v1/visits?from=2026-11-01&to=2026-11-30",
    ):
        assert client.get(url, headers=h).status_code == 200, url


@pytest.mark.parametrize(
    "value", ["３", "٣", "1\u0663", 'W/"1"', '"1', '1"', "1.0", "+1", "0x1", "1 2", "¹"]
)
def test_if_match_takes_ascii_digits_only(sweep, auth, value):
    headers = auth.headers("secretary", **{"If-Match": value})
    before = sweep.counts()
    url = f"/api/v1/households/{sweep.real['household_id']}"
    resp = sweep.client.patch(url, json={"notes": "x"}, headers=headers)
    assert_problem(resp, 428, "PRECONDITION_REQUIRED")
    _no_writes(sweep, before, value)


@pytest.mark.parametrize("value", ["1", '"1"', ' "1" '])
def test_if_match_bare_or_quoted(sweep, auth, value):
    url = f"/api/v1/households/{sweep.real['household_id']}"
    resp = sweep.client.patch(
        url, json={"notes": "x"}, headers=auth.headers("secretary", **{"If-Match": value})
    )
    assert resp.status_code == 200, resp.get_json()


def test_get_households_import_is_405(client, auth):
    for method in ("GET", "PATCH", "DELETE"):
        resp = client.open(
            "/api/v1/households/import",
            method=method,
            headers=auth.headers("admin", **{"If-Match": "1"}),
        )
        assert_problem(resp, 405, "METHOD_NOT_ALLOWED")
        assert "POST" in resp.headers["Allow"]


def test_repeated_create_200_is_in_the_openapi_document(client, auth):
    import uuid

    op = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/households"]["post"]
    assert {"200", "201"} <= set(op["responses"])
    assert (
        op["responses"]["200"]["content"]["application/json"]["schema"]
        == op["responses"]["201"]["content"]["application/json"]["schema"]
    )
    body = {"id": str(uuid.uuid4()), "grid_code": "370303001001-01", "address": "杏园路1号"}
    h = auth.headers("worker")
    assert client.post("/api/v1/households", json=body, headers=h).status_code == 201
    assert client.post("/api/v1/households", json=body, headers=h).status_code == 200


# --- through a real gunicorn: request lines, body sizes, problem+json ------------------------


def _raw_request(base, line, headers=()):
    """Send one request line (and headers) over a socket; (status, content type, body)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(
            line.encode("ascii")
            + b"\r\n"
            + b"".join(h.encode() + b"\r\n" for h in headers)
            + b"Connection: close\r\n\r\n"
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _sep, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    ctype = next(
        (v.split(":", 1)[1].strip() for v in lines[1:] if v.lower().startswith("content-type:")), ""
    )
    return int(lines[0].split()[1]), ctype, body


def _line_of(length, path="/api/v1/households?q="):
    """A GET request line of exactly length bytes (without CRLF)."""
    fixed = len(f"GET {path} HTTP/1.1")
    return f"GET {path}{'x' * (length - fixed)} HTTP/1.1"


def test_limits_through_gunicorn(live_instance):
    import hashlib

    import live_server
    import requests
    from conftest import PASSWORD

    from survey_api.serving import LIMIT_REQUEST_LINE

    assert LIMIT_REQUEST_LINE == 8190
    with live_server.running(live_instance, workers=1) as base:
        token = requests.post(
            base + "/api/v1/auth/login",
            timeout=30,
            json={"username": "worker", "password": PASSWORD},
        ).json()["access_token"]
        auth_header = f"Authorization: Bearer {token}"
        # A request line of 8,190 bytes reaches the app (q is too long: the app's 422) ...
        line = _line_of(8190)
        assert len(line) == 8190
        status, ctype, body = _raw_request(base, line, [auth_header])
        assert (status, ctype) == (422, "application/problem+json"), (status, body[:300])
        # ... one byte more is the server's own 414
        status, _ctype, _body = _raw_request(base, _line_of(8191), [auth_header])
        assert status == 414
        # a photo of exactly 10,485,760 bytes is stored, one byte more is 413 (with and
        # without Content-Length)
        h = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}
        for size, expect in ((10_485_760, 201), (10_485_761, 413)):
            data = b"\xff\xd8\xff" + bytes(size - 3)
            url = f"{base}/api/v1/blobs/{hashlib.sha256(data).hexdigest()}"
            resp = requests.put(url, data=data, headers=h, timeout=60)
            assert resp.status_code == expect, (size, resp.text[:300])
            chunked = requests.put(
                url, data=iter([data[:4096], data[4096:]]), headers=h, timeout=60
            )
            assert chunked.status_code == (200 if expect == 201 else 413), chunked.text[:300]
            if expect == 201:
                assert resp.json()["size"] == size
            else:
                assert resp.headers["Content-Type"] == "application/problem+json"
        # a JSON body of exactly MAX_CONTENT_LENGTH (5 MiB) is read; one byte more is 413
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for size, expect in ((5 * 1024 * 1024, 422), (5 * 1024 * 1024 + 1, 413)):
            raw = b'{"address": "' + b"x" * (size - 15) + b'"}'
            assert len(raw) == size
            for data in (raw, iter([raw[:4096], raw[4096:]])):
                resp = requests.post(base + "/api/v1/households", data=data, headers=h, timeout=60)
                assert resp.status_code == expect, (size, resp.text[:300])
                assert resp.headers["Content-Type"] == "application/problem+json"
        # every error the app answers is problem+json
        for method, path in (
            ("GET", "/api/v1/nothing-here"),
            ("GET", "/nothing"),
            ("DELETE", "/api/v1/me"),
            ("GET", "/api/v1/households/import"),
            ("GET", "/api/v1/households/not-a-uuid"),
            ("GET", "/api/v1/me?x=1"),
            ("POST", "/api/v1/auth/refresh"),
        ):
            resp = requests.request(
                method, base + path, timeout=30, headers={"Authorization": f"Bearer {token}"}
            )
            assert (
                resp.status_code >= 400
                and resp.headers["Content-Type"] == "application/problem+json"
            ), (method, path, resp.status_code)
