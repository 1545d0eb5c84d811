"""§6 under fuzzing: every route in app.url_map, as every role, with a table of bad inputs.

Each bad request must answer a 4xx application/problem+json (type, title, status, detail,
code) and write nothing (every table's row count is the same before and after). Inputs
that are merely odd rather than invalid (an SQL-looking search string, a filter naming
nothing) may answer 2xx, but never 5xx, and still write nothing.

Failures are collected and reported together so one run shows every offending request.
"""

import os
import sqlite3
from urllib.parse import quote

import pytest
from conftest import USERS
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
    "cursor": ["garbage", "%00", "%FF", "A" * 5000, "eyJ4IjogMX0=", "-1", "WyJhIl0",
               "W251bGwsbnVsbF0", quote(SQLI, safe="")],
    "from": ["2026-13-45", "yesterday", "2026-11-01T10:00:00", "0000-00-00", "9" * 30, "%FF",
             "99999-01-01", "2026-11-01T10:00:00+99:00"],
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
    ("wrong types", "application/json",
     b'{"username": 5, "password": [], "grid_code": 7, "address": {}, "members": "many",'
     b' "items": "x", "action": 9, "base_version": "one", "code": [], "name": 3,'
     b' "is_workday": "perhaps", "role": 1, "unit_codes": "x", "level": 4}'),
    ("sql strings", "application/json",
     ('{"zz": 1, "grid_code": "%s", "address": "%s", "code": "%s", "name": "%s",'
      ' "username": "%s", "action": "%s"}' % ((SQLI.replace("'", "\\u0027"),) * 6)).encode()),
]
# Refresh and logout read no body: only bodies that cannot be parsed at all apply (a
# well-formed one would log the sweeping user out).
# DELETE takes no body either (a body it ignores is left to the view).
NO_BODY_ENDPOINTS = {"auth.logout", "auth.refresh", "households.delete_household",
                     "calendar.delete_day"}
MALFORMED = {"bad json", "invalid utf-8", "deep nesting", "deep object nesting",
             "lone surrogate", "NaN", "wrong content type", "form content type"}
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
        ("garbage xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         b"PK\x03\x04 not a zip"),
    ],
}

BAD_IF_MATCH = ["abc", "-1", "9" * 40, '"x"', ""]
BAD_IDEMPOTENCY_KEYS = ["short", "x" * 200, "has space inside", "tab\tkey123"]


class Sweep:
    def __init__(self, app, client, auth):
        self.app = app
        self.client = client
        self.auth = auth
        self.db = sqlite3.connect(app.config["DATABASE"])
        self.tables = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        self.failures = []

    def counts(self):
        """Rows per table, and the files under the blob folder (a photo is a write too)."""
        counts = {t: self.db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in self.tables}
        counts["blob files"] = sum(len(files) for _d, _s, files in
                                   os.walk(self.app.config["BLOB_DIR"]))
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
            if resp.mimetype != "application/problem+json" or any(
                    not body.get(k) for k in ("type", "title", "status", "detail", "code")) \
                    or body.get("status") != status:
                self.failures.append(f"{where} -> {status} not problem+json: "
                                     f"{resp.mimetype} {resp.get_data(as_text=True)[:200]}")


@pytest.fixture
def sweep(app, client, auth, user_ids):
    ids = build(app.config["DATABASE"], user_ids["worker"])
    s = Sweep(app, client, auth)
    vid = s.db.execute("SELECT id FROM visits LIMIT 1").fetchone()[0]
    s.real = {
        "code": "370303001001", "user_id": user_ids["worker"], "problem_id": ids["p2"],
        "household_id": ids["h1"], "visit_id": vid, "day": "2026-11-02", "sha256": "a" * 64,
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
        url = url.replace(f"<{arg}>", value).replace(f"<path:{arg}>", value)
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
                for p in op.get("parameters", []) if p["in"] == "query"]
    return out


def _openapi_path(rule):
    return rule.rule.replace("<", "{").replace(">", "}").replace("{path:", "{")


def _sweep_role(sweep, role):
    app, client = sweep.app, sweep.client
    params = _query_params(app, client)
    for rule, method in _routes(app):
        label = f"{role or 'anonymous'} {rule.endpoint}"
        h = sweep.headers(role)
        # Path tricks.
        tricks = BLOB_TRICKS if "sha256" in rule.arguments else PATH_TRICKS
        for trick in tricks if rule.arguments else []:
            sweep.check(label + " path", method, _url(rule, sweep.real, trick), headers=h,
                        json={} if method in ("POST", "PUT", "PATCH") else None)
        if rule.arguments:  # a real id or code with a trailing newline is not that record
            sweep.check(label + " path newline", method, _url(rule, sweep.real, suffix="%0A"),
                        headers=h, json={} if method in ("POST", "PUT", "PATCH") else None)
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
                    sweep.check(label + f" query {name}", "GET", f"{url}?{name}={value}",
                                headers=h)
                if name in REPEATED:
                    sweep.check(label + " repeated", "GET", f"{url}?{REPEATED[name]}",
                                headers=h)
                if typ == "string" and not enum and name not in BAD_BY_NAME:
                    for value in ODD_STRINGS:
                        sweep.check(label + f" odd {name}", "GET", f"{url}?{name}={value}",
                                    headers=h, strict=False)
            sweep.check(label + " unknown query", "GET", f"{url}?zz_unknown=1&%FF=%FE",
                        headers=h, strict=False)
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
                sweep.check(label + f" body {desc}", method, url, data=raw,
                            headers=sweep.headers(role, **extra), content_type=ctype)
            if role in (None, "admin", "secretary", "worker"):
                sweep.check(label + " oversized", method, url, data=OVERSIZED,
                            headers=sweep.headers(role, **extra), content_type="application/json")
            if "If-Match" in extra:
                for value in BAD_IF_MATCH:
                    sweep.check(label + " If-Match", method, url, json={"zz": 1},
                                headers=sweep.headers(role, **{"If-Match": value}))
            if rule.endpoint == "sync.push":
                for key in BAD_IDEMPOTENCY_KEYS:
                    sweep.check(label + " Idempotency-Key", method, url,
                                json={"items": [{"op_id": "x"}]},
                                headers=sweep.headers(role, **{"Idempotency-Key": key}))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_every_route_rejects_bad_input(sweep, role):
    _sweep_role(sweep, role)
    assert not sweep.failures, "\n".join(sweep.failures[:60]) + \
        f"\n({len(sweep.failures)} failures)"


EXTREME_DATES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00",
                 "9999-12-31T23:59:59-12:00"]
PERIOD_URLS = ["/api/v1/problems", "/api/v1/visits", "/api/v1/audit",
               "/api/v1/communities/370303001001/problem-list",
               "/api/v1/communities/370303001001/rectification-list?format=xlsx",
               "/api/v1/grids/370303001001-01/visit-ledger?format=csv",
               "/api/v1/units/370303/summary"]


@pytest.mark.parametrize("url", PERIOD_URLS)
def test_out_of_range_period_is_422(client, auth, url):
    """from/to at the ends of the calendar overflowed when turned into UTC bounds (500)."""
    for name in ("from", "to"):
        for value in EXTREME_DATES:
            resp = client.get(f"{url}{'&' if '?' in url else '?'}{name}={quote(value)}",
                              headers=auth.headers("admin"))
            body = resp.get_json()
            assert resp.status_code == 422 and body["code"] == "VALIDATION_ERROR", (name, value)
            assert name in body["errors"]


def test_out_of_range_datetimes_in_bodies_are_422(sweep, client, auth):
    import uuid

    h = auth.headers("worker")
    hid = sweep.real["household_id"]
    before = sweep.counts()
    for value in EXTREME_DATES[2:]:
        resp = client.post("/api/v1/visits", headers=h,
                           json={"household_id": hid, "visited_at": value, "outcome": "met"})
        assert resp.status_code == 422 and "visited_at" in resp.get_json()["errors"], value
        resp = client.post("/api/v1/sync/push", headers={**h, "Idempotency-Key": f"k-{value}"},
                           json={"items": [{"op_id": str(uuid.uuid4()), "entity": "visit",
                                            "op": "create", "id": str(uuid.uuid4()),
                                            "data": {"household_id": hid, "visited_at": value,
                                                     "outcome": "met"}}]})
        assert resp.status_code == 200, resp.get_json()
        result = resp.get_json()["results"][0]
        assert result["status"] == "rejected" and "visited_at" in result["errors"], result
    after = sweep.counts()
    assert {t: n for t, n in after.items() if n != before[t]}.keys() <= {
        "idempotency_keys", "push_ops", "audit_log", "sync_results"}


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
            if (resp.status_code != 405 or body.get("code") != "METHOD_NOT_ALLOWED"
                    or "Allow" not in resp.headers or sweep.counts() != before):
                failures.append(f"{method} {url} -> {resp.status_code} {body}")
    assert not failures, "\n".join(failures)


WRONG_VALUES = [None, True, 0, -1, 10**20, 1.5, "", "x" * 5000, [], {}, SQLI, "\u0000",
                ["x"], {"a": 1}, "2026-13-45T99:00:00+08:00"]


def _templates(real, grid):
    """(role, method, url, headers, a valid-looking body) for every JSON write endpoint."""
    import uuid

    hid, pid = real["household_id"], real["problem_id"]
    household = {"grid_code": grid, "address": "杏园路9号", "building": "1", "unit_no": "1",
                 "room": "101", "head_name": "张三", "phone": "13800000000", "members": 2,
                 "tags": ["elderly"], "notes": "n"}
    visit = {"household_id": hid, "visited_at": "2026-11-05T09:00:00+08:00", "outcome": "met",
             "notes": "n", "location": {"lat": 36.8, "lng": 118.0, "accuracy_m": 5},
             "photos": ["a" * 64]}
    problem = {"grid_code": grid, "category": "other.other", "description": "d",
               "urgency": "normal", "source": "visit", "household_id": hid,
               "location": {"lat": 36.8, "lng": 118.0, "accuracy_m": 5},
               "photos_before": ["b" * 64]}
    return [
        ("admin", "POST", "/api/v1/units", {}, {"code": "370303001001-09", "name": "九",
                                               "level": "grid", "parent_code": "370303001001"}),
        ("admin", "PATCH", "/api/v1/units/370303001001-02", {}, {"name": "二"}),
        ("admin", "POST", "/api/v1/users", {}, {
            "username": "zz", "password": "long-password", "role": "secretary",
            "unit_codes": ["370303001001"], "display_name": "Z"}),
        ("admin", "PATCH", f"/api/v1/users/{real['user_id']}", {}, {
            "display_name": "W", "unit_codes": ["370303001001-01"]}),
        ("admin", "POST", "/api/v1/categories", {}, {
            "code": "other.zz", "name": "x", "parent_code": "other", "working_days": 3}),
        ("admin", "PATCH", "/api/v1/categories/other.other", {}, {"name": "x",
                                                                 "working_days": 3}),
        ("admin", "PUT", "/api/v1/calendar/2027-01-04", {}, {"is_workday": True, "name": "x"}),
        ("secretary", "POST", "/api/v1/households", {}, household),
        ("secretary", "PATCH", f"/api/v1/households/{hid}", {"If-Match": "1"},
         {"notes": "m", "members": 3, "tags": ["veteran"]}),
        ("worker", "POST", "/api/v1/visits", {}, visit),
        ("worker", "POST", "/api/v1/problems", {}, problem),
        ("secretary", "POST", f"/api/v1/problems/{pid}/actions", {},
         {"action": "rectify", "base_version": 1, "measures": "m", "photos_after": ["c" * 64],
          "cost_share": {"resident": 1, "society": 2, "subsidy": 3}, "note": "n"}),
        ("worker", "POST", "/api/v1/sync/push", {"Idempotency-Key": "fuzz-key"}, {
            "device_id": "d", "device_time": "2026-11-27T09:00:00+08:00",
            "items": [{"op_id": str(uuid.uuid4()), "entity": "household", "op": "create",
                       "id": str(uuid.uuid4()), "at_client": "2026-11-27T09:00:00+08:00",
                       "data": dict(household, address="杏园路10号")}]}),
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
    for n, (role, method, url, extra, body) in enumerate(_templates(sweep.real,
                                                                    sweep.grid_code)):
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
                    if result["status"] not in ("applied", "duplicate") and not result.get(
                            "code"):
                        failures.append(f"{where} result without code {result}")
    assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} failures)"
