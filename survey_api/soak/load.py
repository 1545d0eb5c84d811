"""concurrency and backup: 8 phones on 4 workers while the office reads, a backup under it.

Eight phones (one per grid) push batches and pull their changes; the community secretary
exports the problem and rectification lists (CSV, XLSX) and the visit ledger; the district
admin reads the district summary. Every answer is classified: a 503 or any body that mentions
a locked or busy database is a lock error, any other 5xx is an http_5xx, a dropped connection a
connection error. After the run the server log is searched for the same. Halfway through,
`survey-api backup` runs as a separate process under that load; the backup is then restored to
a fresh instance folder, checked (integrity_check, every item acknowledged before the backup
started), served, and logged in to (the restore drill of docs/deploy.md).
"""

import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import requests

from . import ledger as ledger_mod
from .client import Client, batch
from .district import COMMUNITY, DISTRICT, GRIDS
from .server import SECRET, SoakServer

WORKERS = 4
MAX_PAIRS = 40
MAX_REQUESTS = 500_000  # a bound besides the clock
LOG_LOCK_MARKS = ("database is locked", "database busy")


class Tally:
    """Counts of answers by kind, shared by the client threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.counts = Counter()

    def add(self, key, n=1):
        with self._lock:
            self.counts[key] += n

    def answer(self, resp):
        """Classify one answer; True when it is a success."""
        self.add("requests")
        text = resp.text.lower() if resp.status_code >= 400 else ""
        if resp.status_code == 503 or "database is locked" in text or "database is busy" in text:
            self.add("lock_errors")
        elif resp.status_code >= 500:
            self.add("http_5xx")
        elif resp.status_code >= 400:
            self.add("http_4xx")
        return resp.status_code < 400

    @property
    def total(self):
        return self.counts["requests"]


def run(folder, minutes, rng_factory, zygote, log):
    """The concurrency figures and the backup figures, as two dicts."""
    db_path = os.path.join(folder, "survey.db")
    server = SoakServer(folder, workers=WORKERS, zygote=zygote)
    server.start()
    ledger, tally = ledger_mod.Ledger(), Tally()
    deadline = time.monotonic() + minutes * 60
    stop = threading.Event()
    pull_missing = Counter()
    threads = [
        threading.Thread(
            target=_phone,
            daemon=True,
            args=(server.base, i, rng_factory(i), ledger, tally, stop, pull_missing),
        )
        for i in range(len(GRIDS))
    ]
    threads.append(
        threading.Thread(
            target=_secretary, daemon=True, args=(server.base, rng_factory(100), tally, stop)
        )
    )
    threads.append(
        threading.Thread(
            target=_district, daemon=True, args=(server.base, rng_factory(101), tally, stop)
        )
    )
    started = time.monotonic()
    backup = None
    try:
        for thread in threads:
            thread.start()
        backup_at = started + minutes * 60 / 2
        next_report = started + 30
        while (
            time.monotonic() < deadline
            and tally.total < MAX_REQUESTS
            and any(t.is_alive() for t in threads)
        ):
            now = time.monotonic()
            if backup is None and now >= backup_at:
                backup = _backup(folder, ledger, log)
            if now >= next_report:
                log(
                    f"  load {int(now - started)}s/{int(minutes * 60)}s: "
                    f"{tally.total} requests, {ledger.count()} items acked, "
                    f"{tally.counts['lock_errors']} lock errors, {tally.counts['http_5xx']} 5xx"
                )
                next_report = now + 30
            time.sleep(0.2)
        if backup is None:
            backup = _backup(folder, ledger, log)
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        stop.set()
        server.stop()
    elapsed = time.monotonic() - started
    final = ledger_mod.check(db_path, ledger.snapshot())
    ok, _ = ledger_mod.integrity_ok(db_path)
    log_counts = _server_log(server.log_path)
    counts = tally.counts
    concurrency = {
        "minutes": round(elapsed / 60, 2),
        "workers": WORKERS,
        "devices": len(GRIDS),
        "requests": counts["requests"],
        "items_acked": ledger.count(),
        "pushes": counts["pushes"],
        "pulls": counts["pulls"],
        "exports": counts["exports"],
        "summaries": counts["summaries"],
        "requests_per_s": round(counts["requests"] / elapsed, 1) if elapsed else None,
        "lock_errors": counts["lock_errors"],
        "lock_errors_log": log_counts["lock"],
        "http_5xx": counts["http_5xx"],
        "tracebacks_log": log_counts["traceback"],
        "worker_timeouts_log": log_counts["timeout"],
        "connection_errors": counts["connection_errors"],
        "http_4xx": counts["http_4xx"],
        "lost": final["lost"],
        "pull_missing": sum(pull_missing.values()),
        "duplicated": final["duplicated"],
        "duplicated_by_kind": final["duplicated_by_kind"],
        "unexpected_results": ledger.unexpected,
        "stuck_keys": final["stuck_keys"],
        "integrity_failures": 0 if ok else 1,
    }
    backup = _restore_drill(folder, backup, zygote, log) if backup else {"backup_failures": 1}
    return concurrency, backup


def _phone(base, index, rng, ledger, tally, stop, pull_missing):
    """Push a batch, pull what changed, pause; at the end every acked record must be pulled."""
    username, grid = f"phone{index + 1}", GRIDS[index]
    client = Client(base, username)
    households, mine, pulled, cursor = [], set(), set(), None
    while not stop.is_set() and tally.total < MAX_REQUESTS:
        body = batch(f"soak-{username}", grid, households, rng.randint(1, MAX_PAIRS), rng)
        key = f"soak-{uuid.uuid4().hex}"
        try:
            answer = _push(client, body, key, tally)
            if answer is not None:
                ids = ledger.record(body, answer)
                households.extend(ids["household"])
                mine.update(i for kind in ids.values() for i in kind)
            cursor = _pull(client, cursor, pulled, tally)
        except requests.RequestException:
            tally.add("connection_errors")
        stop.wait(rng.uniform(0.2, 1.0))
    try:
        _pull(client, cursor, pulled, tally)
    except requests.RequestException:
        tally.add("connection_errors")
    pull_missing[username] = len(mine - pulled)


def _push(client, body, key, tally):
    """A push answered 200, resent with the same key after a 409's Retry-After."""
    for _ in range(60):
        resp = client.push(body, key)
        tally.add("pushes")
        tally.answer(resp)
        if resp.status_code == 200:
            return resp.json()
        if resp.status_code != 409:
            return None
        time.sleep(float(resp.headers.get("Retry-After", "1")))
    return None


def _pull(client, cursor, seen, tally):
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        resp = client.request("GET", "/sync/pull", params=params)
        tally.add("pulls")
        if not tally.answer(resp):
            return cursor
        body = resp.json()
        for part in body["changes"].values():
            seen.update(r["id"] for r in part["upserted"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return cursor


def _secretary(base, rng, tally, stop):
    """The community secretary prints her lists, over and over."""
    client = Client(base, "secretary")
    paths = [
        f"/communities/{COMMUNITY}/problem-list?format=csv",
        f"/communities/{COMMUNITY}/problem-list?format=xlsx",
        f"/communities/{COMMUNITY}/rectification-list?format=xlsx",
        f"/communities/{COMMUNITY}/problem-list?format=json&limit=100",
        f"/grids/{GRIDS[0]}/visit-ledger?format=csv",
    ]
    while not stop.is_set():
        try:
            tally.answer(client.request("GET", rng.choice(paths)))
            tally.add("exports")
        except requests.RequestException:
            tally.add("connection_errors")
        stop.wait(rng.uniform(0.5, 2.0))


def _district(base, rng, tally, stop):
    """The district admin keeps the dashboard's figures open."""
    client = Client(base, "district")
    while not stop.is_set():
        try:
            tally.answer(client.request("GET", f"/units/{DISTRICT}/summary"))
            tally.add("summaries")
        except requests.RequestException:
            tally.add("connection_errors")
        stop.wait(rng.uniform(0.5, 1.5))


def survey_api_command(*args):
    """The `survey-api` console script of this Python."""
    return [sys.executable, "-c", "from survey_api.cli import main; main()", *args]


def _backup(folder, ledger, log):
    """`survey-api backup` while the phones push; what was acked before it started."""
    acked_before = ledger.snapshot()
    dest = os.path.join(os.path.dirname(folder), "backup", "survey.db")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    env = dict(os.environ, SURVEY_API_INSTANCE_PATH=folder, SURVEY_API_SECRET_KEY=SECRET)
    t0 = time.monotonic()
    done = subprocess.run(
        survey_api_command("backup", dest), env=env, capture_output=True, text=True, timeout=1800
    )
    took = time.monotonic() - t0
    log(
        f"  backup under load: exit {done.returncode} in {took:.1f}s, "
        f"{sum(len(v) for v in acked_before.values())} items acked before it started"
    )
    return {
        "dest": dest,
        "returncode": done.returncode,
        "seconds": round(took, 2),
        "stderr": done.stderr[-2000:],
        "acked_before": acked_before,
    }


def _restore_drill(folder, backup, zygote, log):
    """Restore into a fresh instance folder, check it, serve it, log in, read a record."""
    restored = os.path.join(os.path.dirname(folder), "restored")
    result = {
        "backup_failures": 0 if backup["returncode"] == 0 else 1,
        "backup_s": backup["seconds"],
        "items_acked_before_backup": sum(len(v) for v in backup["acked_before"].values()),
        "integrity_failures": 0,
        "missing": 0,
        "restore_login_failures": 0,
    }
    if backup["returncode"] != 0:
        log(f"  backup failed: {backup['stderr']}")
        return result
    os.makedirs(restored)
    shutil.copy2(backup["dest"], os.path.join(restored, "survey.db"))
    if os.path.isdir(backup["dest"] + ".blobs"):
        shutil.copytree(backup["dest"] + ".blobs", os.path.join(restored, "blobs"))
    db_path = os.path.join(restored, "survey.db")
    ok, detail = ledger_mod.integrity_ok(db_path)
    result["integrity_failures"] = 0 if ok else 1
    conn = ledger_mod.open_readonly(db_path)
    try:
        result["missing"] = ledger_mod.missing(conn, backup["acked_before"])
    finally:
        conn.close()
    problem_id = next(iter(backup["acked_before"]["problem"]), None)
    try:
        with SoakServer(restored, workers=1, zygote=zygote) as server:
            client = Client(server.base, "district")
            client.login()
            if problem_id is not None:
                resp = client.request("GET", f"/problems/{problem_id}")
                if resp.status_code != 200:
                    result["restore_login_failures"] = 1
    except (requests.RequestException, RuntimeError) as e:
        log(f"  restored instance did not serve: {e}")
        result["restore_login_failures"] = 1
    log(
        f"  restore drill: integrity {'ok' if ok else detail}, {result['missing']} missing, "
        f"login {'failed' if result['restore_login_failures'] else 'ok'}"
    )
    return result


def _server_log(path):
    counts = Counter()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                low = line.lower()
                if any(mark in low for mark in LOG_LOCK_MARKS):
                    counts["lock"] += 1
                if line.startswith("Traceback"):
                    counts["traceback"] += 1
                if "worker timeout" in low:
                    counts["timeout"] += 1
    except OSError:
        pass
    return counts
