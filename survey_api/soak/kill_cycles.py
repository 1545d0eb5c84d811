"""kill_cycles: push, SIGKILL gunicorn at a random moment, restart, replay, count (DESIGN §12).

Each cycle a phone pushes a batch (a household, then 1-100 visits each with a problem) under a
new Idempotency-Key. At a random moment between sending and a little after the answer is
expected, the master and its workers get SIGKILL together. The server is restarted, the
database is checked (integrity_check; the batch must be all there or all absent), and the phone
replays the same body with the same key, waiting Retry-After on 409 until it is answered.
A push the phone saw answered before the kill must be answered again with the same bytes.
"""

import os
import threading
import time
import uuid

import requests

from . import ledger as ledger_mod
from .client import Client, batch
from .district import GRIDS
from .district import create as create_instance
from .server import SoakServer

# A dead in-flight mark is taken over after this (the app's default is 30 s; a phone waits as
# long; the soak would spend most of its time waiting, so its instance says 1 s).
STALE_SECONDS = 1
MAX_PAIRS = 100
KILL_SPREAD = 1.3  # random kill moments span 0 .. 1.3 x the expected answer time
AT_COMMIT_SHARE = 1 / 3  # the other kills: the moment the push's commit becomes visible
RECALIBRATE_EVERY = 25
# integrity_check reads the whole file (8.7 s for 71 MB on the loaded test machine, after 400
# cycles): each EPOCH_CYCLES cycles start on a fresh database, so the check after every
# restart stays about a second. Losses and duplicates are counted per epoch and summed.
EPOCH_CYCLES = 50


def run(folder, cycles, rng, zygote, log):
    """All the cycles, in epochs of EPOCH_CYCLES on a fresh database each (see below)."""
    stats = {
        "cycles": 0,
        "epochs": 0,
        "kills_at_commit": 0,
        "killed_before_commit": 0,
        "killed_after_commit_unacked": 0,
        "acked_before_kill": 0,
        "items_acked": 0,
        "replay_409s": 0,
        "restart_s_median": None,
        "lost": 0,
        "duplicated": 0,
        "torn_batches": 0,
        "integrity_failures": 0,
        "replay_failures": 0,
        "replay_mismatches": 0,
        "unexpected_results": 0,
        "stuck_keys": 0,
    }
    by_kind = {}
    state = {"restarts": [], "expected_s": None, "started": time.monotonic(), "total": cycles}
    for first in range(0, cycles, EPOCH_CYCLES):
        path = os.path.join(folder, f"epoch-{first // EPOCH_CYCLES + 1}")
        create_instance(path)
        final, ledger = _epoch(
            path, first, min(cycles, first + EPOCH_CYCLES), rng, zygote, stats, state, log
        )
        stats["epochs"] += 1
        for key in ("lost", "duplicated", "stuck_keys"):
            stats[key] += final[key]
        for key, value in final["duplicated_by_kind"].items():
            by_kind[key] = by_kind.get(key, 0) + value
        stats["unexpected_results"] += ledger.unexpected
        stats["items_acked"] += ledger.count()
    elapsed = time.monotonic() - state["started"]
    restarts = sorted(state["restarts"])
    stats.update(
        duplicated_by_kind=by_kind,
        elapsed_s=round(elapsed, 1),
        cycles_per_min=round(stats["cycles"] / elapsed * 60, 1) if elapsed else None,
        restart_s_median=round(restarts[len(restarts) // 2], 3) if restarts else None,
        restart_s_max=round(restarts[-1], 3) if restarts else None,
        expected_push_s=round(state["expected_s"] or 0, 3),
    )
    return stats


def _epoch(folder, first, last, rng, zygote, stats, state, log):
    """Cycles first..last-1 on the instance in `folder`; returns (final check, ledger)."""
    db_path = os.path.join(folder, "survey.db")
    server = SoakServer(
        folder,
        workers=2,
        zygote=zygote,
        env={"SURVEY_API_IDEMPOTENCY_STALE_SECONDS": str(STALE_SECONDS)},
    )
    server.start()
    phone = Client(server.base, "phone1")
    grid = GRIDS[0]
    ledger = ledger_mod.Ledger()
    households = []
    cycles = state["total"]
    try:
        for i in range(first, last):
            if (i - first) % RECALIBRATE_EVERY == 0:
                state["expected_s"] = _calibrate(
                    phone, grid, households, ledger, rng, state["expected_s"]
                )
            expected_s = state["expected_s"]
            body = batch("soak-phone1", grid, households, rng.randint(1, MAX_PAIRS), rng)
            key = f"soak-{uuid.uuid4().hex}"
            pairs = (len(body["items"]) - 1) // 2
            if rng.random() < AT_COMMIT_SHARE:
                stats["kills_at_commit"] += 1
                delay = None  # kill as soon as the commit is visible
            else:
                delay = rng.uniform(0, KILL_SPREAD * expected_s * (0.3 + 0.7 * pairs / MAX_PAIRS))
            answer = _push_and_kill(
                server, phone, body, key, delay, db_path, give_up_s=5 + 3 * expected_s
            )
            t0 = time.monotonic()
            server.restart()
            state["restarts"].append(time.monotonic() - t0)
            phone.base = server.base
            ok, detail = ledger_mod.integrity_ok(db_path)
            if not ok:
                stats["integrity_failures"] += 1
                log(f"  cycle {i + 1}: integrity_check: {detail}")
            present = _present(db_path, body)
            if answer is not None:
                stats["acked_before_kill"] += 1
            elif present == 0:
                stats["killed_before_commit"] += 1
            elif present == len(body["items"]):
                stats["killed_after_commit_unacked"] += 1
            if 0 < present < len(body["items"]):
                stats["torn_batches"] += 1
                log(
                    f"  cycle {i + 1}: {present} of {len(body['items'])} items stored before "
                    "the replay"
                )
            replayed, seen = phone.push_until_answered(body, key)
            stats["replay_409s"] += seen.count(409)
            if replayed is None:
                stats["replay_failures"] += 1
                log(f"  cycle {i + 1}: replay not answered: {seen}")
                continue
            if answer is not None and replayed != answer:
                stats["replay_mismatches"] += 1
            ids = ledger.record(body, replayed)
            households.extend(ids["household"])
            stats["cycles"] = i + 1
            if (i + 1) % max(1, min(50, cycles // 10 or 1)) == 0 or i + 1 == cycles:
                rate = (i + 1) / (time.monotonic() - state["started"]) * 60
                log(
                    f"  kill cycle {i + 1}/{cycles}: {stats['killed_before_commit']} before "
                    f"commit, {stats['killed_after_commit_unacked']} after commit unacked, "
                    f"{stats['acked_before_kill']} acked; failures so far: "
                    f"{stats['torn_batches']} torn, {stats['integrity_failures']} integrity, "
                    f"{stats['replay_failures'] + stats['replay_mismatches']} replay; "
                    f"{rate:.1f} cycles/min"
                )
    finally:
        server.stop()
    final = ledger_mod.check(db_path, ledger.snapshot())
    ok, _ = ledger_mod.integrity_ok(db_path)
    stats["integrity_failures"] += 0 if ok else 1
    return final, ledger


def _calibrate(phone, grid, households, ledger, rng, previous):
    """Time one push of the largest batch without killing (its items count as acknowledged)."""
    body = batch("soak-phone1", grid, households, MAX_PAIRS, rng)
    t0 = time.monotonic()
    answer, _ = phone.push_until_answered(body, f"soak-{uuid.uuid4().hex}")
    took = time.monotonic() - t0
    if answer is not None:
        households.extend(ledger.record(body, answer)["household"])
    return took if previous is None else 0.5 * previous + 0.5 * took


def _push_and_kill(server, phone, body, key, delay, db_path, give_up_s):
    """Send the push in a thread and SIGKILL the server after `delay` seconds, or (delay None)
    as soon as another connection sees the push committed; returns the answer if one came."""
    answer = {}

    def send():
        try:
            resp = phone.push(body, key)
            if resp.status_code == 200:
                answer["json"] = resp.json()
        except (requests.RequestException, ValueError):
            pass  # the connection died with the server

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    if delay is None:
        _wait_for_commit(db_path, key, thread, give_up_s)
    else:
        time.sleep(delay)
    server.kill()
    thread.join(timeout=120)
    return answer.get("json")


def _wait_for_commit(db_path, key, thread, give_up_s):
    conn = ledger_mod.open_readonly(db_path)
    try:
        deadline = time.monotonic() + give_up_s
        while thread.is_alive() and time.monotonic() < deadline:
            row = conn.execute(
                "SELECT state FROM idempotency_keys WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and row[0] == "done":
                return
            time.sleep(0.002)
    finally:
        conn.close()


def _present(db_path, body):
    """How many of the batch's records are stored."""
    conn = ledger_mod.open_readonly(db_path)
    try:
        return sum(
            len(
                ledger_mod.stored(
                    conn, entity, [i["id"] for i in body["items"] if i["entity"] == entity]
                )
            )
            for entity in ledger_mod.TABLES
        )
    finally:
        conn.close()
