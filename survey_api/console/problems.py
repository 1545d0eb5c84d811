"""问题清单 (the queues) and the problem page with its actions (DESIGN §10).

The queue is services/problem_queue.py (the same query GET /api/v1/problems runs), the page
is services/problem_view.py, an action is services/lifecycle.act (the API's door too).
"""

import math
import re
from datetime import date
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for

from .. import labels
from ..db import get_db
from ..errors import ApiError
from ..scope import current_scope
from ..services import lifecycle, problem_queue, problem_view
from ..timeutil import end_of_local_day
from . import bp

PER_PAGE = 50
QUEUE_LABELS = {
    "all": "全部",
    "reported": "待受理",
    "in_progress": "办理中",
    "rectified": "待核验",
    "due_soon": "即将到期",
    "overdue": "已超期",
    "supervised": "督办",
    "suspended": "已挂起",
    "closed": "已销号",
    "rejected": "不予受理",
}
assert list(QUEUE_LABELS) == list(problem_queue.QUEUES)
# Filters the list exports cannot apply, as the page names them.
LEFT_OUT = {"source": "来源", "q": "关键词", "due_soon": "即将到期"}
FILTER_KEYS = ("grid", "category", "source", "from", "to", "q")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# The console's buttons: verify is two of them (ok / not ok).
BUTTONS = {"verify": ("verify_ok", "verify_fail")}
# The fields of each action's form: (name, label, kind).
NOTE = ("note", "备注", "textarea")
FORMS = {
    "assign": [
        ("responsible_unit", "责任单位", "unit"),
        ("responsible_person", "责任人", "text"),
        NOTE,
    ],
    "rectify": [
        ("measures", "整改措施", "textarea"),
        ("cost_resident", "居民分担", "money"),
        ("cost_society", "社会分担", "money"),
        ("cost_subsidy", "街道补贴", "money"),
        NOTE,
    ],
    "extend": [("due_date", "新时限", "date"), ("reason", "延期原因", "textarea")],
    "rate": [("rating", "满意度", "rating"), ("rating_comment", "评价意见", "textarea")],
    "supervise": [("note", "督办意见", "textarea")],
}
# A form field's name → the action parameter it feeds (for error messages).
PARAM_OF = {
    "cost_resident": "cost_share.resident",
    "cost_society": "cost_share.society",
    "cost_subsidy": "cost_share.subsidy",
    "due_date": "due_at",
}


# --- the queue -----------------------------------------------------------------------------


def _queue_request(args):
    """(queue, filters, page, echo of the filters, messages) from the query string."""
    queue = args.get("queue", "all")
    if queue not in problem_queue.QUEUES:
        queue = "all"
    echo = {k: args.get(k, "").strip() for k in FILTER_KEYS}
    messages = []
    dates = {}
    for key in ("from", "to"):
        try:
            dates[key] = date.fromisoformat(echo[key]) if echo[key] else None
        except ValueError:
            messages.append(f"日期格式应为 YYYY-MM-DD：{echo[key]}")
            echo[key], dates[key] = "", None
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        messages.append("开始日期晚于结束日期")
        dates["to"], echo["to"] = None, ""
    if echo["source"] not in labels.SOURCE:
        echo["source"] = ""
    filters = problem_queue.Filters(
        unit=echo["grid"] or None,
        category=echo["category"] or None,
        source=echo["source"] or None,
        lo=dates["from"],
        hi=dates["to"],
        q=echo["q"][:100] or None,
    )
    try:
        page = max(1, min(int(args.get("page", 1)), 100_000))
    except ValueError:
        page = 1
    return queue, filters, page, echo, messages


def _url(queue, echo, page=1):
    params = {"queue": queue, **{k: v for k, v in echo.items() if v}}
    if page > 1:
        params["page"] = page
    return url_for("console.problems") + "?" + urlencode(params)


@bp.route("/problems")
def problems():
    """问题清单: the queues with their counts, the filters, 50 problems a page."""
    conn, scope = get_db().conn, current_scope()
    queue, filters, page_no, echo, messages = _queue_request(request.args)
    result = problem_queue.queue_page(conn, scope, filters, queue, page=page_no, per_page=PER_PAGE)
    options = problem_queue.filter_options(conn, scope)
    community, export_params, left_out = problem_queue.export_query(conn, scope, filters, queue)
    exports = None
    if community:
        query = urlencode(export_params)
        exports = {
            "problem": f"/api/v1/communities/{community}/problem-list?{query}",
            "rectification": f"/api/v1/communities/{community}/rectification-list?{query}",
            "left_out": "、".join(LEFT_OUT[k] for k in left_out),
        }
    unit_names = {u["code"]: u["name"] for u in options["units"]}
    category_names = {c["code"]: c["name"] for c in options["categories"]}
    context = dict(
        nav="problems",
        queue=queue,
        queue_labels=QUEUE_LABELS,
        result=result,
        echo=echo,
        messages=messages,
        options=options,
        unit_names=unit_names,
        category_names=category_names,
        source_labels=labels.SOURCE,
        exports=exports,
        page=page_no,
        pages=max(1, math.ceil(result.total / PER_PAGE)),
        url=_url,
    )
    template = "console/problems.html"
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        template = "console/problems_results.html"
    return render_template(template, **context)


# --- the problem page ----------------------------------------------------------------------


def _problem_id(value):
    if not _UUID.fullmatch(value or ""):
        raise ApiError(404, "NOT_FOUND", "No such problem.")
    return value.lower()


def _render_problem(
    problem_id, *, unmask=False, open_action=None, values=None, errors=None, status=200
):
    conn, scope = get_db().conn, current_scope()
    view = problem_view.details(
        conn, scope, _problem_id(problem_id), unmask=unmask, ip=request.remote_addr
    )
    buttons = [b for action in view["actions"] for b in BUTTONS.get(action, (action,))]
    if open_action not in buttons:
        open_action = None
    units = problem_queue.filter_options(conn, scope)["units"] if open_action == "assign" else []
    html = render_template(
        "console/problem.html",
        nav="problems",
        view=view,
        p=view["problem"],
        buttons=buttons,
        button_labels=labels.ACTION,
        open_action=open_action,
        form_fields=FORMS.get(open_action.split("_")[0] if open_action else "", [NOTE]),
        values=values or {},
        errors=errors or {},
        units=units,
    )
    return html, status


@bp.route("/problems/<problem_id>")
def problem(problem_id):
    """The problem page; ?action=accept opens that action's form."""
    return _render_problem(problem_id, open_action=request.args.get("action"))


@bp.route("/problems/<problem_id>/household", methods=["POST"])
def unmask_household(problem_id):
    """显示完整信息: the household in full, once, written to the audit log."""
    return _render_problem(problem_id, unmask=True)


def _form_data(button, form):
    """The action's parameters from its form (the API's names and types; the service
    validates them)."""
    action = button.split("_")[0]
    data = {"action": action}
    if action == "verify":
        data["ok"] = button == "verify_ok"
    text = {k: form.get(k, "").strip() for k in form}
    if text.get("note"):
        data["note"] = text["note"]
    if action == "assign":
        data["responsible_unit"] = text.get("responsible_unit", "")
        data["responsible_person"] = text.get("responsible_person", "")
    elif action == "rectify":
        data["measures"] = text.get("measures", "")
        share = {
            key: _number(text.get(f"cost_{key}", "")) for key in ("resident", "society", "subsidy")
        }
        share = {k: v for k, v in share.items() if v is not None}
        if share:
            data["cost_share"] = share
    elif action == "extend":
        data["due_at"] = _end_of_day(text.get("due_date", ""))
        data["reason"] = text.get("reason", "")
    elif action == "rate":
        data["rating"] = (
            int(text["rating"]) if text.get("rating", "").isdigit() else text.get("rating", "")
        )
        if text.get("rating_comment"):
            data["rating_comment"] = text["rating_comment"]
    return data


def _number(value):
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return value  # the schema answers "Not a valid number."


def _end_of_day(value):
    """新时限 is a date: the deadline is 23:59:59 Asia/Shanghai of it."""
    try:
        return end_of_local_day(date.fromisoformat(value)).isoformat()
    except ValueError:
        return value


def _field_errors(errors):
    """The service's errors keyed by the form's field names."""
    by_param = {v: k for k, v in PARAM_OF.items()}
    out = {}
    for key, messages in (errors or {}).items():
        out[by_param.get(key, key.split(".")[0] if key.startswith("cost_share") else key)] = (
            messages
        )
    return out


@bp.route("/problems/<problem_id>/actions", methods=["POST"])
def act(problem_id):
    """Apply one action (POST/redirect/GET); a stale one says so and shows the current state."""
    pid = _problem_id(problem_id)
    button = request.form.get("button", "")
    if button not in labels.ACTION:
        raise ApiError(404, "NOT_FOUND", "No such action.")
    try:
        base_version = int(request.form.get("base_version", ""))
    except ValueError:
        base_version = None
    data = _form_data(button, request.form)
    conn, scope = get_db().conn, current_scope()
    try:
        lifecycle.act(conn, scope, pid, base_version, data, request.remote_addr)
    except ApiError as e:
        if e.status == 409:
            current = (e.extra.get("current") or {}).get("status")
            flash(
                f"该问题已被他人更新，当前状态：{labels.label('status', current)}。"
                "请查看后再操作。",
                "error",
            )
        elif e.status in (403, 422) and e.code != "ACTION_FORBIDDEN":
            errors = _field_errors(e.errors) or {"_": ["不在您的管辖范围内"]}
            return _render_problem(
                pid, open_action=button, values=request.form, errors=errors, status=422
            )
        elif e.status == 403:
            flash("您无权执行此操作", "error")
        else:
            raise
        return redirect(url_for("console.problem", problem_id=pid), 303)
    flash(f"操作成功：{labels.ACTION[button]}")
    return redirect(url_for("console.problem", problem_id=pid), 303)
