"""A real gunicorn serving survey-api on a free loopback port (crash and concurrency tests)."""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

import requests

from survey_api.serving import gunicorn_command

SECRET = "live-server-secret-0123456789abcdef0123"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(instance_path, **extra):
    env = dict(os.environ)
    env.update(SURVEY_API_INSTANCE_PATH=str(instance_path), SURVEY_API_SECRET_KEY=SECRET)
    env.update({f"SURVEY_API_{k}": str(v) for k, v in extra.items()})
    return env


def start(instance_path, workers=2, port=None, **config):
    """Start gunicorn; returns (process, base_url) once it answers."""
    port = port or free_port()
    log_path = os.path.join(str(instance_path), "gunicorn.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            gunicorn_command(f"127.0.0.1:{port}", workers, timeout=60, graceful_timeout=3),
            env=server_env(instance_path, **config),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(proc, base, log_path)
    except BaseException:
        stop(proc)
        raise
    return proc, base


def _wait_until_ready(proc, base, log_path):
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                raise RuntimeError("gunicorn exited: " + f.read()[-3000:])
        try:
            if requests.get(base + "/api/v1/openapi.json", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not answer within 30 s")


def stop(proc, sig=signal.SIGTERM):
    """Signal the whole process group and wait."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def running(instance_path, workers=2, **config):
    proc, base = start(instance_path, workers=workers, **config)
    try:
        yield base
    finally:
        stop(proc)
