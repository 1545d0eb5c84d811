"""The office console (DESIGN §10): server-rendered pages in Chinese under /console/.

One module per page group, all on the `console` blueprint: session.py (login, logout, the
cookie session, security headers, error pages), problems.py (问题清单 and the problem page),
photos.py (photos and thumbnails), dashboard.py (统计), ledger.py (走访台账 and the household
page), admin.py (管理: users, units, working calendar, audit log). Views parse, call a service,
render: the rules live in survey_api/services, shared with the API.
"""

from flask import Blueprint

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)


def init_app(app):
    """Register the console's pages (imported here so their routes land on the blueprint)."""
    from . import admin, dashboard, ledger, pages, photos, problems, session  # noqa: F401

    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_SECURE", bool(app.config.get("COOKIE_SECURE")))
    app.register_blueprint(bp)
