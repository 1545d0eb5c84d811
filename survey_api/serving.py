"""How gunicorn serves survey-api: the one place that builds its command line.

`survey-api serve`, the benchmark's server and the tests' live server all start gunicorn
with gunicorn_command(), so a limit set here holds for every one of them.
"""

import sys

# Request lines (method, path with query, version) up to 8,190 bytes reach the app; gunicorn
# itself answers a longer one with 414. 8,190 is gunicorn's maximum (its default is 4,094).
LIMIT_REQUEST_LINE = 8190
WSGI_APP = "survey_api.wsgi:app"


def gunicorn_command(bind, workers, *, timeout=120, graceful_timeout=5, access_log=False, extra=()):
    """The argv that runs gunicorn on bind (host:port) with the project's options."""
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        str(graceful_timeout),
        "--limit-request-line",
        str(LIMIT_REQUEST_LINE),
    ]
    if access_log:
        args += ["--access-logfile", "-"]
    return [*args, *extra, WSGI_APP]
