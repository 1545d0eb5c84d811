"""Serve an instance folder with real gunicorn on 127.0.0.1 for the benchmark."""

import os
import signal
import socket
import subprocess
import time

import requests

from ..serving import gunicorn_command


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A gunicorn master in its own process group; stop() ends the group."""

    def __init__(self, instance_path, workers=2, port=None, log_path=None, env=None):
        self.instance_path = instance_path
        self.workers = workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.log_path = log_path or os.path.join(instance_path, "gunicorn.log")
        self.extra_env = env or {}
        self.proc = None

    def start(self, timeout=60):
        env = dict(
            os.environ,
            SURVEY_API_INSTANCE_PATH=self.instance_path,
            SURVEY_API_SECRET_KEY="bench-secret-key-" + "x" * 32,
        )
        env.update(self.extra_env)
        args = gunicorn_command(
            f"127.0.0.1:{self.port}",
            self.workers,
            timeout=300,
            graceful_timeout=5,
            extra=["--no-control-socket"],
        )
        self._log = open(self.log_path, "ab")
        self.proc = self.spawn(args, env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                if (
                    requests.get(self.base + "/openapi.json", timeout=2).status_code == 200
                    and len(self.worker_pids()) >= self.workers
                ):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout}s; see {self.log_path}")

    def spawn(self, args, env):
        """Start the master in its own session (process group); returns a Popen-like handle."""
        return subprocess.Popen(
            args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self):
        """SIGKILL the master and its workers at once (a crash, not a shutdown)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:  # never signal a group whose pid may be reused
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._log.close()
        self.proc = None

    def worker_pids(self):
        """The worker processes (children of the master)."""
        pid = self.proc.pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def reset_peak_rss(self):
        """Reset VmHWM of every worker (Linux: write 5 to clear_refs); False if not possible."""
        ok = True
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                ok = False
        return ok

    def peak_rss_mb(self):
        """The largest VmHWM (peak resident set) among the workers, in MiB."""
        return self._status_max("VmHWM:")

    def rss_mb(self):
        """The largest current VmRSS among the workers, in MiB."""
        return self._status_max("VmRSS:")

    def _status_max(self, field):
        peak = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith(field):
                            peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return peak / 1024

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        finally:
            self._log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
