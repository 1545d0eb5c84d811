"""Push throughput in one process vs the floor (marshmallow load + executemany).

Run: .venv/bin/python tests/perf_push.py [batches] [--profile] [--records]
--records pushes household records (household + visit + 30% problem, the bench's
push_records_per_s shape) instead of visits with problems for existing households.
Not collected by pytest (no test_ prefix); the numbers go into docs/sync.md.
"""

import json
import random
import sys
import tempfile
import time
import types
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from conftest import PASSWORD, seed_tree  # noqa: E402

from survey_api import create_app  # noqa: E402
from survey_api.bench.measure import (  # noqa: E402
    make_batches,
    make_record_batches,
    measure_floor,
)
from survey_api.db import connect, write_tx  # noqa: E402
from survey_api.storage import households  # noqa: E402

GRID = "370303001001-01"


def main(n_batches=6, profile=False, records=False):
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "p" * 40,
            "DATABASE": f"{tmp}/p.db",
            "BLOB_DIR": f"{tmp}/blobs",
        }
    )
    seed_tree(app.config["DATABASE"])
    conn = connect(app.config["DATABASE"])
    hids = [str(uuid.uuid4()) for _ in range(1000)]
    with write_tx(conn):
        for i, hid in enumerate(hids):
            households.insert(conn, hid, {"grid_code": GRID, "address": f"路{i}号"})
    conn.close()
    if records:
        batches = make_record_batches(random.Random(1), GRID, n_batches * 217)
    else:
        batches = make_batches(random.Random(1), GRID, hids, n_batches)
    bodies = [json.dumps(b).encode() for b in batches]
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login", json={"username": "worker", "password": PASSWORD}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    client.post(
        "/api/v1/sync/push", json={"items": []}, headers={**headers, "Idempotency-Key": "warm-up-1"}
    )
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    started = time.perf_counter()
    for body in bodies:
        resp = client.post(
            "/api/v1/sync/push",
            data=body,
            content_type="application/json",
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        summary = resp.get_json()["summary"]
        assert summary["applied"] == len(json.loads(body)["items"]), summary
    push_s = time.perf_counter() - started
    if profiler:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:8000])
        profiler = None
    started = time.perf_counter()
    for body in bodies:
        resp = client.post(
            "/api/v1/sync/push",
            data=body,
            content_type="application/json",
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
        assert resp.get_json()["summary"]["duplicate"] == len(json.loads(body)["items"])
    replay_s = time.perf_counter() - started
    if profiler:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
    n = sum(len(b["items"]) for b in batches)
    if records:
        print(
            f"items={n} records={n_batches * 217} push={n / push_s:.0f} items/s "
            f"{n_batches * 217 / push_s:.0f} records/s replay={n / replay_s:.0f}/s"
        )
        return
    floor = measure_floor(
        app.config["DATABASE"], {GRID: batches}, types.SimpleNamespace(workers={GRID: "worker"})
    )["floor_items_per_s"]
    push = n / push_s
    print(
        f"items={n} push={push:.0f}/s replay(op_id duplicates)={n / replay_s:.0f}/s "
        f"floor={floor:.0f}/s push/floor={push / floor:.2f}"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 6, "--profile" in sys.argv, "--records" in sys.argv)
