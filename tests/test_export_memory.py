"""A 100,000-row export keeps memory flat: peak RSS growth bounded and the same as at 10,000.

Each export runs in a fresh process (tests/export_probe.py) that samples its own RSS every
5 ms while the whole response is read. Measured on the CI machines: ~10 MB growth over the
process baseline for CSV and XLSX alike, at 10k and at 100k rows (docs/lists.md).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from bulk_rows import add_problems

PROBE = Path(__file__).with_name("export_probe.py")
URL = "/api/v1/communities/370303001001/problem-list?unmask=true&format="
GRIDS = ["370303001001-01", "370303001001-02"]
# Stated bound: an export may add at most 40 MB to the process, and 100k rows may cost at
# most 15 MB more than 10k rows (the SQLite page cache of the export connection is 4 MiB).
MAX_GROWTH_MB = 40
MAX_EXTRA_FOR_10X_MB = 15


def _probes(db_path, token, formats):
    env = dict(os.environ, PROBE_TOKEN=token)
    procs = {
        fmt: subprocess.Popen(
            [sys.executable, str(PROBE), db_path, URL + fmt],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for fmt in formats
    }
    results = {}
    for fmt, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        results[fmt] = json.loads(out.strip().splitlines()[-1])
    return results


def test_export_memory_is_flat_in_the_row_count(app, auth):
    db_path = app.config["DATABASE"]
    token = auth.tokens("secretary")["access_token"]
    add_problems(db_path, "370303001001", GRIDS, 10_000)
    small = _probes(db_path, token, ("csv", "xlsx"))
    add_problems(db_path, "370303001001", GRIDS, 90_000, start_number=10_001, seed=2)
    large = _probes(db_path, token, ("csv", "xlsx"))
    for fmt in ("csv", "xlsx"):
        grow_small = (small[fmt]["peak_kb"] - small[fmt]["baseline_kb"]) / 1024
        grow_large = (large[fmt]["peak_kb"] - large[fmt]["baseline_kb"]) / 1024
        assert grow_large < MAX_GROWTH_MB, (fmt, grow_small, grow_large)
        assert grow_large - grow_small < MAX_EXTRA_FOR_10X_MB, (fmt, grow_small, grow_large)
        # ten times the rows really went out
        assert large[fmt]["bytes"] > 5 * small[fmt]["bytes"], fmt
