"""管理 (admin only): users, the unit tree, the working calendar, the audit log (DESIGN §10).

Every write calls the service the API's own endpoint calls (services/accounts.py,
services/units.py, services/working_calendar.py, services/audit_log.py) and validates with
the API's schema, then redirects (POST/redirect/GET) with a flashed outcome.
"""

import io
import json
import re
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from schemas.units import UnitCreateSchema, UnitPatchSchema
from schemas.users import UserCreateSchema, UserPatchSchema

from .. import labels
from ..db import get_db, read_tx
from ..errors import ApiError
from ..roles import ADMIN, ROLES, UNIT_LEVELS
from ..scope import current_scope
from ..services import accounts, audit_log, deadlines, periods, working_calendar
from ..services import units as unit_service
from ..services.calendar_import import CalendarImportError
from ..services.unit_import import UnitImportError
from ..storage import units as unit_store
from ..timeutil import local_date, now
from . import bp

PER_PAGE = 50
MAX_UPLOAD = 2 * 1024 * 1024
TABS = {"users": "用户", "units": "单位", "calendar": "工作日历", "audit": "操作日志"}
FIELD_LABELS = {
    "username": "用户名",
    "password": "密码",
    "display_name": "姓名",
    "role": "角色",
    "unit_codes": "所属单位",
    "code": "编码",
    "name": "名称",
    "level": "层级",
    "parent_code": "上级编码",
    "date": "日期",
}


def _scope():
    """The caller's scope; 管理 pages are the admin's, everyone else gets the 403 page."""
    scope = current_scope()
    scope.require_role(ADMIN)
    return scope


# The services' and schemas' messages as the console shows them (unknown ones pass as they are).
_ZH = [
    (r"This username is taken\.", "该用户名已被使用"),
    (r"Required for this role\.", "该角色必须填写所属单位"),
    (r"Exactly one unit for this role\.", "该角色只能属于一个单位"),
    (r"An admin holds no unit\.", "系统管理员不属于任何单位，请留空"),
    (r"No unit (\S+)\.", r"单位 \1 不存在"),
    (
        r"(\S+) is a (\w+), not a (\w+)\.",
        lambda m: f"{m[1]} 是{_level(m[2])}，该角色应属于{_level(m[3])}",
    ),
    (r"Length must be between (\d+) and (\d+)\.", r"长度应为 \1 到 \2 个字符"),
    (r"Longer than maximum length (\d+)\.", r"最多 \1 个字符"),
    (r"String does not match expected pattern\.", "格式不正确"),
    (r"Missing data for required field\.", "必填"),
    (r"Field may not be null\.", "必填"),
    (r"Must be one of: .*", "取值无效"),
    (r"A unit with this code exists\.", "该编码已存在"),
    (r"Must name an existing (\w+)\.", lambda m: f"上级必须是已有的{_level(m[1])}"),
    (r"A grid code is '(\S+)-<suffix>'\.", r"网格编码应为“\1-序号”"),
    (r"A district has no parent\.", "区没有上级，请留空"),
    (r"A (\w+) needs a (\w+) parent\.", lambda m: f"{_level(m[1])}必须填写上级{_level(m[2])}"),
]


def _level(code):
    return labels.label("level", code)


def _zh(message):
    for pattern, repl in _ZH:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, repl, message)
    return message


def _messages(errors, prefix=""):
    """marshmallow or ApiError field errors as lines a person reads."""
    out = []
    for field, value in (errors or {}).items():
        name = FIELD_LABELS.get(field.split(".")[0], field)
        if isinstance(value, dict):
            out += _messages(value, prefix)
        else:
            out += [f"{name}：{_zh(m)}" for m in (value if isinstance(value, list) else [value])]
    return out


def _failed(e):
    """Flash an ApiError or ValidationError as error lines."""
    if isinstance(e, ValidationError):
        lines = _messages(e.messages)
    else:
        lines = _messages(e.errors) or [e.detail]
    for line in lines or ["操作未完成"]:
        flash(line, "error")


def _upload_text(field):
    """The uploaded CSV as text (UTF-8, BOM allowed), or None with a flashed reason."""
    upload = request.files.get(field)
    if upload is None or not upload.filename:
        flash("请选择要导入的 CSV 文件", "error")
        return None, None
    raw = upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        flash("文件过大（上限 2 MB）", "error")
        return None, None
    try:
        return raw.decode("utf-8-sig"), upload.filename
    except UnicodeDecodeError:
        flash("文件不是 UTF-8 编码的文本，未导入", "error")
        return None, None


def _import_upload(importer, errors, done):
    """Run an all-or-nothing CSV import of the uploaded file: importer(conn, scope, file,
    source=, ip=) → (created, updated); `errors` is its exception (every bad row in .problems);
    done(created, updated) the message of a success."""
    scope = _scope()
    text, name = _upload_text("file")
    if text is None:
        return
    try:
        created, updated = importer(
            get_db().conn, scope, io.StringIO(text), source=name, ip=request.remote_addr
        )
    except errors as e:
        flash(f"未导入：{len(e.problems)} 处错误", "error")
        for line in e.problems[:50]:
            flash(line, "error")
    else:
        flash(done(created, updated))


# --- users ---------------------------------------------------------------------------------


def _codes(text):
    return [c for c in re.split(r"[\s,，、;；]+", text or "") if c]


@bp.route("/admin/users")
def admin_users():
    """用户: every account by username (filter by role), with disable/enable and reset."""
    conn, scope = get_db().conn, _scope()
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    after = request.args.get("after") or None
    rows = accounts.list_users(conn, scope, role=role, after=after, limit=PER_PAGE + 1)
    units = {
        u["code"]: u for u in unit_store.get_many(conn, {c for r in rows for c in r["unit_codes"]})
    }
    return render_template(
        "console/admin_users.html",
        nav="admin",
        tab="users",
        tabs=TABS,
        users=rows[:PER_PAGE],
        more=rows[PER_PAGE - 1]["username"] if len(rows) > PER_PAGE else None,
        units=units,
        role=role,
        roles=labels.ROLE,
        form=request.args,
    )


@bp.route("/admin/users", methods=["POST"])
def admin_user_create():
    """新建用户: the API's schema and accounts.create_user."""
    scope = _scope()
    form = request.form
    body = {
        "username": form.get("username", "").strip(),
        "password": form.get("password", ""),
        "display_name": form.get("display_name", "").strip(),
        "role": form.get("role", ""),
        "unit_codes": _codes(form.get("unit_codes")),
    }
    try:
        args = UserCreateSchema().load(body)
        user = accounts.create_user(
            get_db().conn,
            scope,
            username=args["username"],
            password=args["password"],
            role=args["role"],
            unit_codes=args.get("unit_codes") or [],
            display_name=args["display_name"],
            ip=request.remote_addr,
        )
    except (ValidationError, ApiError) as e:
        _failed(e)
        keep = {k: body[k] for k in ("username", "display_name", "role")}
        return redirect(
            url_for("console.admin_users", unit_codes=form.get("unit_codes", ""), **keep) + "#new"
        )
    flash(f"已创建用户 {user['username']}（{labels.label('role', user['role'])}）")
    return redirect(url_for("console.admin_users"))


@bp.route("/admin/users/<user_id>/active", methods=["POST"])
def admin_user_active(user_id):
    """停用 / 启用 a user (disabling revokes their tokens at once)."""
    return _update_user(
        user_id,
        {"active": request.form.get("active") == "1"},
        "已启用" if request.form.get("active") == "1" else "已停用",
    )


@bp.route("/admin/users/<user_id>/password", methods=["POST"])
def admin_user_password(user_id):
    """重置密码 (revokes every token the user holds)."""
    return _update_user(user_id, {"password": request.form.get("password", "")}, "已重置密码")


def _update_user(user_id, body, done):
    scope = _scope()
    try:
        changes = UserPatchSchema().load(body)
        user = accounts.update_user(get_db().conn, scope, user_id, changes, ip=request.remote_addr)
    except (ValidationError, ApiError) as e:
        if isinstance(e, ApiError) and e.status == 404:
            raise
        _failed(e)
        return redirect(request.referrer or url_for("console.admin_users"))
    flash(f"{user['username']}：{done}")
    return redirect(request.referrer or url_for("console.admin_users"))


# --- units ---------------------------------------------------------------------------------


@bp.route("/admin/units")
def admin_units():
    """单位: the whole tree, new unit, rename, CSV import."""
    conn, _ = get_db().conn, _scope()
    with read_tx(conn):
        tree = unit_service.tree(conn)
    return render_template(
        "console/admin_units.html",
        nav="admin",
        tab="units",
        tabs=TABS,
        tree=tree,
        levels=UNIT_LEVELS,
        form=request.args,
    )


@bp.route("/admin/units", methods=["POST"])
def admin_unit_create():
    scope = _scope()
    form = request.form
    body = {
        "code": form.get("code", "").strip(),
        "name": form.get("name", "").strip(),
        "level": form.get("level", ""),
        "parent_code": form.get("parent_code", "").strip() or None,
    }
    try:
        args = UnitCreateSchema().load(body)
        unit = unit_service.create(
            get_db().conn,
            scope,
            code=args["code"],
            name=args["name"],
            level=args["level"],
            parent_code=args["parent_code"],
            ip=request.remote_addr,
        )
    except (ValidationError, ApiError) as e:
        _failed(e)
        return redirect(
            url_for("console.admin_units", **{k: v or "" for k, v in body.items()}) + "#new"
        )
    flash(f"已新增{labels.label('level', unit['level'])} {unit['name']}（{unit['code']}）")
    return redirect(url_for("console.admin_units"))


@bp.route("/admin/units/<code>", methods=["POST"])
def admin_unit_rename(code):
    scope = _scope()
    try:
        args = UnitPatchSchema().load({"name": request.form.get("name", "").strip()})
        unit = unit_service.update(get_db().conn, scope, code, args, ip=request.remote_addr)
    except (ValidationError, ApiError) as e:
        if isinstance(e, ApiError) and e.status == 404:
            raise
        _failed(e)
        return redirect(url_for("console.admin_units"))
    flash(f"已更名：{unit['code']} {unit['name']}")
    return redirect(url_for("console.admin_units") + f"#u-{code}")


@bp.route("/admin/units/import", methods=["POST"])
def admin_units_import():
    """导入单位 CSV (code,name,level,parent_code): all or nothing, every bad row listed."""
    _import_upload(
        unit_service.import_csv,
        UnitImportError,
        lambda created, updated: f"已导入单位：新增 {created} 个，更新 {updated} 个",
    )
    return redirect(url_for("console.admin_units"))


# --- working calendar ----------------------------------------------------------------------


def _month(text):
    try:
        first = date.fromisoformat(f"{text}-01")
    except (TypeError, ValueError):
        first = local_date(now()).replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first, last


WEEKDAYS = "一二三四五六日"


@bp.route("/admin/calendar")
def admin_calendar():
    """工作日历: a month's days as deadlines count them, the overrides, set/remove/import."""
    conn, _ = get_db().conn, _scope()
    first, last = _month(request.args.get("month"))
    today = local_date(now())
    with read_tx(conn):
        days = deadlines.days(conn, first, last)
        overrides = working_calendar.overrides(
            conn,
            (today - timedelta(days=366)).isoformat(),
            (today + timedelta(days=3 * 366)).isoformat(),
        )
    prev_month = (first - timedelta(days=1)).strftime("%Y-%m")
    next_month = (last + timedelta(days=1)).strftime("%Y-%m")
    return render_template(
        "console/admin_calendar.html",
        nav="admin",
        tab="calendar",
        tabs=TABS,
        days=days,
        first=first,
        overrides=overrides,
        weekdays=WEEKDAYS,
        prev_month=prev_month,
        next_month=next_month,
        sources={
            "override": "手工设置",
            "package": "国家节假日安排",
            "estimated": "估算（周一至周五）",
        },
    )


def _form_date(text):
    try:
        if len(text or "") != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        flash(f"日期格式应为 YYYY-MM-DD：{text}", "error")
        return None


@bp.route("/admin/calendar", methods=["POST"])
def admin_calendar_set():
    """设置某日为工作日或休息日 (an override)."""
    scope = _scope()
    day = _form_date(request.form.get("date", "").strip())
    name = request.form.get("name", "").strip() or None
    if day is not None:
        if name and len(name) > 50:
            flash("名称：最多 50 个字", "error")
        else:
            is_workday = request.form.get("is_workday") == "1"
            working_calendar.set_override(
                get_db().conn, scope, day, is_workday, name, ip=request.remote_addr
            )
            flash(f"已设置 {day.isoformat()} 为{'工作日' if is_workday else '休息日'}")
    month = day.strftime("%Y-%m") if day else None
    return redirect(url_for("console.admin_calendar", month=month))


@bp.route("/admin/calendar/<day>/delete", methods=["POST"])
def admin_calendar_delete(day):
    """删除某日的手工设置."""
    scope = _scope()
    d = _form_date(day)
    if d is not None:
        try:
            working_calendar.remove_override(get_db().conn, scope, d, ip=request.remote_addr)
            flash(f"已删除 {d.isoformat()} 的手工设置")
        except ApiError:
            flash(f"{d.isoformat()} 没有手工设置", "error")
    return redirect(url_for("console.admin_calendar", month=d.strftime("%Y-%m") if d else None))


@bp.route("/admin/calendar/import", methods=["POST"])
def admin_calendar_import():
    """导入放假安排 CSV (date,is_workday,name): all or nothing."""
    _import_upload(
        working_calendar.import_notice,
        CalendarImportError,
        lambda created, updated: f"已导入放假安排：新增 {created} 天，更新 {updated} 天",
    )
    return redirect(url_for("console.admin_calendar"))


# --- audit log -----------------------------------------------------------------------------


@bp.route("/admin/audit")
def admin_audit():
    """操作日志: filters 操作, 操作人, 开始日期, 结束日期; newest first, 50 a page."""
    conn, scope = get_db().conn, _scope()
    echo = {k: request.args.get(k, "").strip() for k in ("action", "actor", "from", "to")}
    message = None
    try:
        period = periods.resolve(None, echo["from"], echo["to"])
    except periods.PeriodError as e:
        message = "；".join(e.errors.values())
        period = periods.resolve(None)
        echo["from"] = echo["to"] = ""
    lo, hi = period.bounds()
    try:
        before = int(request.args.get("before", ""))
    except ValueError:
        before = None
    with read_tx(conn):
        rows = audit_log.entries(
            conn,
            scope,
            action=echo["action"] or None,
            actor=echo["actor"] or None,
            lo=lo,
            hi=hi,
            before=before,
            limit=PER_PAGE + 1,
        )
        names = audit_log.actor_names(conn, rows)
    items = rows[:PER_PAGE]
    for item in items:
        item["details_text"] = (
            json.dumps(item["details"], ensure_ascii=False) if item["details"] else ""
        )
    older = items[-1]["id"] if len(rows) > PER_PAGE else None
    return render_template(
        "console/admin_audit.html",
        nav="admin",
        tab="audit",
        tabs=TABS,
        items=items,
        names=names,
        echo=echo,
        message=message,
        older=older,
    )
