"""Run one export through the app in a fresh process and report time and peak memory.

Usage: python export_probe.py DB_PATH URL  →  prints JSON {bytes, seconds, maxrss_kb,
baseline_kb, peak_kb} (RSS sampled every 5 ms).
Used by test_export_memory.py and the numbers in docs/lists.md.
"""

import json
import os
import resource
import sys
import threading
import time

from survey_api import create_app


def main(db_path, url, username="secretary", password="correct-horse-9"):
    secret = os.environ.get("PROBE_SECRET", "test-secret-key-that-is-long-enough-for-hs256")
    app = create_app(
        {"DATABASE": db_path, "SECRET_KEY": secret, "TESTING": True, "AUTO_MIGRATE": False}
    )
    client = app.test_client()
    token = os.environ.get("PROBE_TOKEN")  # logging in here would put argon2's 64 MiB in the peak
    if not token:
        token = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        ).get_json()
        token = token["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    # Warm up every code path on a tiny request, then take the baseline.
    client.get(url.split("?")[0] + "?format=json&limit=1", headers=headers)
    baseline = _rss_kb()
    peak = [baseline]
    done = threading.Event()

    def sample():  # ru_maxrss would report startup's argon2 peak: sample the current RSS
        while not done.is_set():
            peak[0] = max(peak[0], _rss_kb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    resp = client.get(url, headers=headers, buffered=False)
    assert resp.status_code == 200, resp.status_code
    size = 0
    for chunk in resp.response:
        size += len(chunk)
    resp.close()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak[0] = max(peak[0], _rss_kb())
    print(
        json.dumps(
            {
                "bytes": size,
                "seconds": seconds,
                "baseline_kb": baseline,
                "peak_kb": peak[0],
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )


def _rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


if __name__ == "__main__":
    main(*sys.argv[1:])
