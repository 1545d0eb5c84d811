"""deploy/: the systemd units verify, the nginx site passes `nginx -t`, and the app behind that
nginx (real gunicorn, HTTPS with a certificate made here) sees the users' addresses, keeps the
documented body limits and sends the documented headers (docs/deploy.md)."""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PASSWORD
from live_server import free_port, start, stop

from survey_api.errors import type_uri

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
MiB = 1024 * 1024


def _survey_api_script():
    return str(Path(sys.executable).with_name("survey-api"))


# ---- systemd -------------------------------------------------------------------------------


def test_unit_files_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing (Debian package `systemd`)")
    # verify checks that ExecStart exists: point it at this checkout's programs, nothing else.
    units = {
        "survey-api.service": ("/opt/survey-api/venv/bin/survey-api", _survey_api_script()),
        "survey-api-backup.service": (
            "/usr/local/sbin/survey-api-backup",
            str(DEPLOY / "survey-api-backup"),
        ),
        "survey-api-backup.timer": None,
    }
    for name, swap in units.items():
        text = (DEPLOY / name).read_text()
        if swap:
            assert swap[0] in text
            text = text.replace(swap[0], swap[1])
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "Failed to connect to bus" in done.stderr or "System has not been booted" in done.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_service_runs_serve_as_its_own_user_and_restarts(tmp_path):
    text = (DEPLOY / "survey-api.service").read_text()
    assert "User=survey-api" in text and "Restart=on-failure" in text
    assert "EnvironmentFile=/etc/survey-api/env" in text
    assert "serve --host 127.0.0.1" in text
    env = (DEPLOY / "env.example").read_text()
    assert "SURVEY_API_INSTANCE_PATH=/var/lib/survey-api" in env
    assert "SURVEY_API_TRUSTED_PROXY_COUNT=1" in env
    assert "SURVEY_API_COOKIE_SECURE=true" in env
    timer = (DEPLOY / "survey-api-backup.timer").read_text()
    assert "OnCalendar=" in timer and "Persistent=true" in timer


# ---- the nightly backup script -------------------------------------------------------------


def test_backup_script_backs_up_checks_and_keeps_the_newest(live_instance, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (backups / f"survey-{stamp}.db").write_text("old")
        (backups / f"survey-{stamp}.db.blobs").mkdir()
    (backups / "notes.txt").write_text("not a backup")
    env = dict(
        os.environ,
        SURVEY_API_INSTANCE_PATH=str(live_instance),
        SURVEY_API_SECRET_KEY="k" * 40,
        BACKUP_DIR=str(backups),
        BACKUP_KEEP="2",
        SURVEY_API_VENV=str(Path(sys.executable).parent.parent),
    )
    done = subprocess.run(
        [str(DEPLOY / "survey-api-backup")], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "integrity_check" in done.stdout and ": ok" in done.stdout
    names = sorted(p.name for p in backups.iterdir())
    new = [
        n
        for n in names
        if n.startswith("survey-2") and n.endswith("Z.db") and not n.startswith("survey-202601")
    ]
    assert len(new) == 1
    assert names == sorted(
        [
            "notes.txt",
            "survey-20260103T000000Z.db",
            "survey-20260103T000000Z.db.blobs",
            new[0],
            new[0] + ".blobs",
        ]
    )
    conn = sqlite3.connect(backups / new[0])
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0
    conn.close()


def test_backup_script_refuses_a_bad_keep(tmp_path):
    env = dict(os.environ, BACKUP_DIR=str(tmp_path), BACKUP_KEEP="none")
    done = subprocess.run(
        [str(DEPLOY / "survey-api-backup")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "BACKUP_KEEP" in done.stderr


# ---- nginx ---------------------------------------------------------------------------------


def _nginx():
    path = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if path is None:
        pytest.skip("nginx is missing (Debian package nginx-light; .ci/run installs it)")
    return path


def render_site(folder, *, https_port, http_port, upstream_port, cert, key):
    """deploy/nginx-survey-api.conf with this machine's ports, certificate and log paths."""
    text = (DEPLOY / "nginx-survey-api.conf").read_text()
    swaps = [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/ssl/certs/survey-api.crt", str(cert)),
        ("/etc/ssl/private/survey-api.key", str(key)),
        ("/var/log/nginx/survey-api.access.log", str(folder / "access.log")),
        ("/var/log/nginx/survey-api.error.log", str(folder / "error.log")),
    ]
    for old, new in swaps:
        assert old in text, f"deploy/nginx-survey-api.conf no longer has {old!r}"
        text = text.replace(old, new)
    (folder / "site.conf").write_text(text)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folders
    (folder / "nginx.conf").write_text(f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
""")
    return folder / "nginx.conf"


def _certificate(folder):
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return cert, key


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = _nginx()
    cert, key = _certificate(tmp_path)
    conf = render_site(
        tmp_path,
        https_port=free_port(),
        http_port=free_port(),
        upstream_port=free_port(),
        cert=cert,
        key=key,
    )
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


class Stack:
    """nginx (HTTPS) in front of gunicorn, both on 127.0.0.1."""

    def __init__(self, folder, instance):
        self.folder, self.instance = folder, instance
        self.cert, key = _certificate(folder)
        self.gunicorn, base = start(
            instance,
            workers=2,
            TRUSTED_PROXY_COUNT=1,
            COOKIE_SECURE="true",
            LOGIN_MAX_FAILURES=3,
            LOGIN_MAX_FAILURES_PER_ADDRESS=3,
        )
        self.app_port = int(base.rsplit(":", 1)[1])
        self.https_port, self.http_port = free_port(), free_port()
        conf = render_site(
            folder,
            https_port=self.https_port,
            http_port=self.http_port,
            upstream_port=self.app_port,
            cert=self.cert,
            key=key,
        )
        self.nginx = subprocess.Popen(
            [_nginx(), "-p", str(folder), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                break
            except OSError:
                if self.nginx.poll() is not None or time.time() > deadline:
                    raise RuntimeError(
                        "nginx did not start: " + self.nginx.stderr.read().decode()[-2000:]
                    ) from None
                time.sleep(0.1)

    def close(self):
        os.killpg(self.nginx.pid, signal.SIGTERM)
        self.nginx.wait(timeout=30)
        self.nginx.stderr.close()
        stop(self.gunicorn)

    def request(self, method, path, *, via="nginx", source="127.0.0.2", body=None, headers=None):
        """One request from `source` (any 127/8 address), through nginx or straight in."""
        if via == "nginx":
            context = ssl.create_default_context(cafile=str(self.cert))
            conn = http.client.HTTPSConnection(
                "127.0.0.1",
                self.https_port,
                timeout=120,
                context=context,
                source_address=(source, 0),
            )
        elif via == "http":
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.http_port, timeout=60, source_address=(source, 0)
            )
        else:
            conn = http.client.HTTPConnection(
                "127.0.0.1", self.app_port, timeout=120, source_address=(source, 0)
            )
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            self.set_cookies = resp.headers.get_all("Set-Cookie") or []
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def login(self, username, password=PASSWORD, **kwargs):
        body = json.dumps({"username": username, "password": password}).encode()
        return self.request(
            "POST",
            "/api/v1/auth/login",
            body=body,
            headers={"Content-Type": "application/json", **kwargs.pop("headers", {})},
            **kwargs,
        )

    def token(self, username):
        status, _, body = self.login(username)
        assert status == 200, body
        return json.loads(body)["access_token"]

    def last_login_address(self):
        conn = sqlite3.connect(self.instance / "survey.db")
        try:
            return conn.execute(
                "SELECT ip FROM audit_log WHERE action = 'auth.login' ORDER BY id DESC LIMIT 1"
            ).fetchone()[0]
        finally:
            conn.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    _nginx()
    from conftest import seed_tree

    from survey_api.db import connect
    from survey_api.migrations import migrate

    folder = tmp_path_factory.mktemp("deploy")
    instance = folder / "instance"
    instance.mkdir()
    conn = connect(str(instance / "survey.db"))
    migrate(conn)
    conn.close()
    seed_tree(str(instance / "survey.db"))
    s = Stack(folder, instance)
    yield s
    s.close()


@pytest.mark.slow
def test_through_nginx_the_app_sees_the_users_address(stack):
    status, _, _ = stack.login(
        "admin", source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 200
    assert stack.last_login_address() == "127.0.0.2"  # nginx replaced the client's header


@pytest.mark.slow
def test_forwarded_for_sent_straight_to_gunicorn_is_ignored(stack):
    status, _, _ = stack.login(
        "admin", via="direct", source="127.0.0.3", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 200
    assert stack.last_login_address() == "127.0.0.3"


@pytest.mark.slow
def test_forwarded_for_from_the_proxy_address_is_believed(stack):
    status, _, _ = stack.login(
        "admin", via="direct", source="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.7"}
    )
    assert status == 200
    assert stack.last_login_address() == "198.51.100.7"


@pytest.mark.slow
def test_the_login_limit_counts_users_not_the_proxy(stack):
    for i in range(3):  # this instance allows 3 failures per username and per address
        status, _, _ = stack.login(f"nobody{i}", password="wrong-password", source="127.0.0.4")
        assert status == 401
    status, headers, body = stack.login("nobody9", password="wrong-password", source="127.0.0.4")
    assert status == 429 and json.loads(body)["code"] == "RATE_LIMITED"
    assert "Retry-After" in headers
    status, _, _ = stack.login("secretary", source="127.0.0.5")  # another office PC
    assert status == 200


@pytest.mark.slow
def test_plain_http_redirects_to_https(stack):
    status, headers, _ = stack.request("GET", "/console/", via="http")
    assert status == 301 and headers["Location"].startswith("https://")


@pytest.mark.slow
def test_headers_through_nginx(stack):
    status, headers, _ = stack.request("GET", "/api/v1/openapi.json")
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Server"] == "nginx"  # server_tokens off: no version
    assert "gunicorn" not in json.dumps(headers).lower()


def _push_body(size):
    """A syntactically valid push envelope of exactly `size` bytes."""
    head, tail = b'{"device_id": "', b'", "items": []}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.slow
@pytest.mark.parametrize("size", [5 * MiB + 1, 7 * MiB])
def test_a_push_over_5_mib_is_413_problem_json(stack, size):
    """nginx answers it, as the app would (a bigger limit there made these 502s)."""
    headers = {
        "Authorization": f"Bearer {stack.token('worker')}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"deploy-{size}",
    }
    status, resp_headers, body = stack.request(
        "POST", "/api/v1/sync/push", body=_push_body(size), headers=headers
    )
    assert status == 413
    assert resp_headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["code"] == "PAYLOAD_TOO_LARGE"
    assert problem["type"] == type_uri("PAYLOAD_TOO_LARGE")
    assert problem["status"] == 413 and "5 MiB" in problem["detail"]


@pytest.mark.slow
def test_a_push_of_5_mib_reaches_the_app(stack):
    headers = {
        "Authorization": f"Bearer {stack.token('worker')}",
        "Content-Type": "application/json",
        "Idempotency-Key": "deploy-5mib",
    }
    status, _, body = stack.request(
        "POST", "/api/v1/sync/push", body=_push_body(5 * MiB), headers=headers
    )
    assert status == 422, body[:300]  # the app read it: a device_id that long is invalid


def _png(size):
    """A PNG signature padded to `size` bytes (the app checks the magic bytes only)."""
    sig = b"\x89PNG\r\n\x1a\n"
    return sig + b"\0" * (size - len(sig))


@pytest.mark.slow
@pytest.mark.parametrize("size, status", [(10 * MiB, 201), (10 * MiB + 1, 413), (12 * MiB, 413)])
def test_photo_limits_through_nginx(stack, size, status):
    import hashlib

    data = _png(size)
    sha = hashlib.sha256(data).hexdigest()
    got, headers, body = stack.request(
        "PUT",
        f"/api/v1/blobs/{sha}",
        body=data,
        headers={"Authorization": f"Bearer {stack.token('worker')}", "Content-Type": "image/png"},
    )
    assert got == status, body[:300]
    if status == 413:
        assert headers["Content-Type"].startswith("application/problem+json")
        problem = json.loads(body)
        assert problem["code"] == "PAYLOAD_TOO_LARGE"
        assert problem["type"] == type_uri("PAYLOAD_TOO_LARGE")


@pytest.mark.slow
def test_a_photo_of_exactly_10_mib_is_stored_by_gunicorn_itself(stack):
    """Appendix B, straight to gunicorn: werkzeug's stream used to refuse a read at its limit."""
    import hashlib

    data = _png(10 * MiB)[:-1] + b"\1"  # not the photo the nginx test stored
    sha = hashlib.sha256(data).hexdigest()
    status, _, body = stack.request(
        "PUT",
        f"/api/v1/blobs/{sha}",
        via="direct",
        body=data,
        headers={"Authorization": f"Bearer {stack.token('worker')}", "Content-Type": "image/png"},
    )
    assert status == 201, body[:300]
    assert json.loads(body)["size"] == 10 * MiB


@pytest.mark.slow
def test_console_cookies_are_secure_behind_https(stack):
    """SURVEY_API_COOKIE_SECURE=true as in deploy/env.example."""
    status, headers, _ = stack.request(
        "POST",
        "/console/login",
        body=b"username=secretary&password=" + PASSWORD.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status in (302, 303), headers
    cookies = stack.set_cookies
    assert any("access_token" in c for c in cookies), cookies
    assert all("; Secure" in c for c in cookies), cookies
    assert all("HttpOnly" in c for c in cookies if "csrf" not in c.split("=", 1)[0])


def test_the_installed_package_carries_the_console_files(tmp_path):
    """docs/deploy.md installs with `pip install SRC` (not editable): every file the code
    needs besides Python modules must be in the wheel."""
    root = DEPLOY.parent
    tracked = subprocess.run(
        ["git", "ls-files", "pyproject.toml", "README.md", "survey_api", "schemas"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    src = tmp_path / "src"
    for name in tracked:  # build from a copy: a build writes build/ and *.egg-info
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, src / name)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0 and "setuptools" in done.stderr and "find" in done.stderr:
        pytest.skip("no package index to fetch setuptools for the build")
    assert done.returncode == 0, done.stderr[-2000:]
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("survey_api-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    data = [n for n in tracked if n.startswith("survey_api/") and not n.endswith(".py")]
    assert data, "no data files? the check below would prove nothing"
    assert [n for n in data if n not in packed] == []
