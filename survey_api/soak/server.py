"""The soak's gunicorn: the benchmark's Gunicorn, started cold or forked from a warm zygote."""

import json
import os
import subprocess
import sys

from ..bench.server import Gunicorn, free_port

SECRET = "soak-secret-key-" + "s" * 32


class Zygote:
    """The warm process of zygote.py; forks gunicorn masters on request."""

    def __init__(self, scratch):
        env = dict(os.environ, SURVEY_API_INSTANCE_PATH=os.path.join(scratch, "zygote"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "survey_api.soak.zygote"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        ready = self.proc.stdout.readline()
        if not ready:
            raise RuntimeError("the soak's zygote process did not start")

    def ask(self, **request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the soak's zygote process died")
        return json.loads(answer)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Forked:
    """A Popen-like handle on a master forked by the zygote."""

    def __init__(self, zygote, pid):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self):
        if self.returncode is None:
            self.returncode = self.zygote.ask(cmd="wait", pid=self.pid, timeout=0)["status"]
        return self.returncode

    def wait(self, timeout=60):
        if self.returncode is None:
            status = self.zygote.ask(cmd="wait", pid=self.pid, timeout=timeout)["status"]
            if status is None:
                raise subprocess.TimeoutExpired("gunicorn", timeout)
            self.returncode = status
        return self.returncode


class SoakServer(Gunicorn):
    """gunicorn on 127.0.0.1 for the soak, on its own instance folder; fast restarts."""

    def __init__(self, instance_path, workers, zygote=None, env=None):
        super().__init__(
            instance_path, workers=workers, env={"SURVEY_API_SECRET_KEY": SECRET, **(env or {})}
        )
        self.zygote = zygote

    def spawn(self, args, env):
        if self.zygote is None:
            return super().spawn(args, env)
        argv = args[args.index("gunicorn") + 1 :]  # after `python -m gunicorn`
        pid = self.zygote.ask(cmd="start", argv=argv, env=env, log=self.log_path)["pid"]
        return Forked(self.zygote, pid)

    def restart(self):
        """Start again on a fresh port (a killed listener may linger a moment)."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        return self.start()
