"""A warm Python that forks gunicorn masters, so a restart costs a fork, not an interpreter.

Starting `python -m gunicorn` costs ~0.6 s of CPU per process for the imports (several seconds
of wall time on a loaded machine); 1,000 kill cycles would spend most of their time there. This
process imports gunicorn and survey_api once, then on request forks a child that becomes a
gunicorn master in its own session, exactly as `python -m gunicorn ARGS` would run (same
arbiter, same workers, same app module loaded in each worker). The soak kills that group with
SIGKILL like any other.

Protocol: one JSON object a line on stdin, one answer a line on stdout.
  {"cmd": "start", "argv": [...], "env": {...}, "log": PATH} -> {"pid": N}
  {"cmd": "wait", "pid": N, "timeout": S} -> {"status": N | null}  (null: still running)
EOF on stdin ends it. It is a child subreaper, so the killed workers are reaped here too.
"""

import ctypes
import json
import os
import signal
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36


def _warm_up():
    """Import what a master and a worker import (the app itself is made per worker)."""
    import gunicorn.app.wsgiapp  # noqa: F401
    import gunicorn.arbiter  # noqa: F401
    import gunicorn.workers.sync  # noqa: F401
    import requests  # noqa: F401

    from survey_api import create_app

    with tempfile.TemporaryDirectory(prefix="survey-zygote-") as folder:
        app = create_app(
            {
                "SECRET_KEY": "zygote-warm-up-" + "x" * 32,
                "DATABASE": os.path.join(folder, "warm.db"),
                "BLOB_DIR": os.path.join(folder, "blobs"),
            }
        )
        app.test_client().get("/api/v1/openapi.json")


def _child(argv, env, log_path):
    """In the forked child: become `gunicorn ARGV` in a new session; never returns."""
    try:
        os.setsid()
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sys.argv = ["gunicorn", *argv]
        from gunicorn.app.wsgiapp import WSGIApplication

        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn").run()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    os._exit(code)


def _reap(statuses, masters):
    """Collect every finished child (masters, and workers orphaned to us); keep the exit
    status of masters only, until asked for (pids are reused: a stale status kept under a
    pid would be read as the death of a new process)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in masters:
            masters.discard(pid)
            statuses[pid] = os.waitstatus_to_exitcode(status)


def _wait(pid, timeout, statuses, masters):
    deadline = time.monotonic() + timeout
    while True:
        _reap(statuses, masters)
        if pid in statuses:
            # The master is gone; wait for the rest of its group (the workers) to be reaped.
            while time.monotonic() < deadline:
                try:
                    os.killpg(pid, 0)
                except ProcessLookupError:
                    break
                _reap(statuses, masters)
                time.sleep(0.005)
            return statuses.pop(pid)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def main():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: killed workers are reaped by init instead
    _warm_up()
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    statuses, masters = {}, set()
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(request["argv"], request["env"], request["log"])
            statuses.pop(pid, None)  # an earlier process's, if the pid came round again
            masters.add(pid)
            answer = {"pid": pid}
        elif request["cmd"] == "wait":
            answer = {
                "status": _wait(request["pid"], request.get("timeout", 30), statuses, masters)
            }
        else:
            answer = {"error": f"unknown command {request['cmd']}"}
        _reap(statuses, masters)
        out.write(json.dumps(answer) + "\n")
        out.flush()
    _reap(statuses, masters)
    for pid in list(masters):  # the soak went away: stop the masters still running (our
        try:  # unreaped children, so their pids cannot be someone else's)
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _reap(statuses, masters)


if __name__ == "__main__":
    main()
