"""问题清单 and the problem page through the Flask test client: queues, filters, actions,
scope, CSRF, unmasking and photos."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from console_helpers import console_login, csrf_of, text
from lifecycle_helpers import GRID, make_problem
from PIL import Image

from survey_api.db import connect, write_tx
from survey_api.storage import households as household_store
from survey_api.storage import problems as problem_store
from survey_api.timeutil import SHANGHAI, iso, now, parse_iso

OTHER_GRID = "370303001002-01"  # 华光社区: not the secretary's


@pytest.fixture
def conn(app):
    c = connect(app.config["DATABASE"])
    yield c
    c.close()


@pytest.fixture
def secretary(client):
    console_login(client, "secretary")
    return client


def row(conn, pid):
    return problem_store.get_row(conn, pid)


def audit_actions(conn):
    return [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]


def queue_counts(html):
    """{queue label: count} from the queue links."""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r'>([^<>]+)<span class="n">(\d+)</span></a>', html)
    }


def numbers(html):
    return re.findall(r'/console/problems/[0-9a-f-]{36}">([^<]+)</a>', html)


# --- the queue -----------------------------------------------------------------------------


def test_every_queue_counts_and_lists_its_problems(secretary, conn):
    t = now()
    ids = {
        state: make_problem(conn, state)
        for state in (
            "reported",
            "accepted",
            "assigned",
            "rectifying",
            "rectified",
            "closed",
            "rejected",
            "suspended",
        )
    }
    overdue = make_problem(conn, "assigned", due_at=iso(t - timedelta(days=2)))
    soon = make_problem(conn, "accepted", due_at=iso(t + timedelta(minutes=30)))
    supervised = make_problem(conn, "rectifying", supervised=1)
    make_problem(conn, "reported", grid=OTHER_GRID)  # another community: never counted
    html = text(secretary.get("/console/problems"))
    counts = queue_counts(html)
    assert counts == {
        "全部": 11,
        "待受理": 1,
        "办理中": 6,
        "待核验": 1,
        "即将到期": 1,
        "已超期": 1,
        "督办": 1,
        "已挂起": 1,
        "已销号": 1,
        "不予受理": 1,
    }
    assert "共 11 条" in html
    expected = {
        "reported": [ids["reported"]],
        "rectified": [ids["rectified"]],
        "overdue": [overdue],
        "due_soon": [soon],
        "supervised": [supervised],
        "suspended": [ids["suspended"]],
        "closed": [ids["closed"]],
        "rejected": [ids["rejected"]],
        "in_progress": [
            ids["accepted"],
            ids["assigned"],
            ids["rectifying"],
            overdue,
            soon,
            supervised,
        ],
    }
    for queue, want in expected.items():
        page = text(secretary.get(f"/console/problems?queue={queue}"))
        shown = set(re.findall(r"/console/problems/([0-9a-f-]{36})\"", page))
        assert shown == set(want), queue
        assert f"共 {len(shown)} 条" in page
        assert (
            'aria-current="page">'
            + {
                "reported": "待受理",
                "rectified": "待核验",
                "overdue": "已超期",
                "due_soon": "即将到期",
                "supervised": "督办",
                "suspended": "已挂起",
                "closed": "已销号",
                "rejected": "不予受理",
                "in_progress": "办理中",
            }[queue]
            in page
        )


def test_queue_columns_labels_and_deadlines(secretary, conn):
    pid = make_problem(conn, "assigned", due_at=iso(now() - timedelta(days=3)))
    html = text(secretary.get("/console/problems"))
    for header in ("问题编号", "类别", "问题描述", "网格", "状态", "整改时限"):
        assert f"<th>{header}</th>" in html
    number = row(conn, pid)["number"]
    assert f'href="/console/problems/{pid}">{number}</a>' in html
    assert "消防隐患" in html and "杏园一网格" in html and "已交办" in html
    assert re.search(r"超期\d+个工作日", html)


@pytest.mark.parametrize(
    "query, expect",
    [
        ("grid=370303001001-02", {"g2"}),
        ("grid=370303001001", {"fire", "g2", "hotline", "old"}),
        ("category=safety", {"fire", "g2", "hotline", "old"}),
        ("category=traffic.parking", {"park"}),
        ("source=hotline", {"hotline"}),
        ("q=电梯", {"hotline"}),
        ("from=2020-01-01&to=2020-12-31", {"old"}),
        ("from=2999-01-01", set()),
    ],
)
def test_filters(secretary, conn, query, expect):
    made = {
        "fire": make_problem(conn),
        "g2": make_problem(conn, grid="370303001001-02"),
        "hotline": make_problem(conn, category="safety.structure"),
        "park": make_problem(conn, category="traffic.parking"),
        "old": make_problem(conn),
    }
    with write_tx(conn):
        conn.execute(
            "UPDATE problems SET source = 'hotline', description = '电梯停运' WHERE id = ?",
            (made["hotline"],),
        )
        conn.execute(
            "UPDATE problems SET reported_at = '2020-05-01T02:00:00Z' WHERE id = ?", (made["old"],)
        )
        conn.execute(
            "UPDATE problems SET category = 'traffic.parking' WHERE id = ?", (made["park"],)
        )
    if "category=safety" in query or query.startswith("grid=370303001001&"):
        expect = expect - {"park"}
    page = text(secretary.get(f"/console/problems?{query}"))
    shown = set(re.findall(r"/console/problems/([0-9a-f-]{36})\"", page))
    assert shown == {made[k] for k in expect} | (
        {made["park"]} if query == "grid=370303001001" else set()
    ), query


def test_keyword_finds_the_number(secretary, conn):
    pid = make_problem(conn)
    make_problem(conn)
    number = row(conn, pid)["number"]
    page = text(secretary.get(f"/console/problems?q={number}"))
    assert numbers(page) == [number]


def test_filter_state_lives_in_the_url(secretary, conn):
    make_problem(conn)
    page = text(
        secretary.get(
            "/console/problems?queue=overdue&grid=370303001001-01"
            "&category=safety&source=visit&from=2026-01-01&to=2026-12-31&q=楼道"
        )
    )
    assert '<option value="370303001001-01" selected>' in page
    assert 'value="2026-01-01"' in page and 'value="楼道"' in page
    # Queue links keep the filters.
    assert "queue=reported&amp;grid=370303001001-01&amp;category=safety" in page
    assert 'hx-sync="this:replace"' in page


def test_bad_dates_are_said_not_crashed(secretary):
    resp = secretary.get("/console/problems?from=2026-13-40&to=x")
    assert resp.status_code == 200 and "日期格式应为 YYYY-MM-DD" in text(resp)
    resp = secretary.get("/console/problems?from=2026-05-01&to=2026-01-01")
    assert "开始日期晚于结束日期" in text(resp)


def test_fifty_a_page(secretary, conn):
    for _ in range(53):
        make_problem(conn)
    first = text(secretary.get("/console/problems"))
    assert len(numbers(first)) == 50 and "共 53 条" in first and "下一页" in first
    second = text(secretary.get("/console/problems?page=2"))
    assert len(numbers(second)) == 3
    assert not set(numbers(first)) & set(numbers(second))


def test_htmx_filter_request_gets_the_results_only(secretary, conn):
    make_problem(conn)
    resp = secretary.get(
        "/console/problems?queue=reported", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    html = text(resp)
    assert "<html" not in html and "共 1 条" in html and 'class="queues"' in html


def test_grid_outside_scope_is_refused(secretary):
    resp = secretary.get(f"/console/problems?grid={OTHER_GRID}")
    assert resp.status_code in (403, 404) and "<h1>" in text(resp)


def test_export_links_carry_the_filters(secretary, client, conn):
    make_problem(conn)
    page = text(
        secretary.get(
            "/console/problems?queue=in_progress&grid=370303001001-01"
            "&category=safety&from=2026-01-01"
        )
    )
    links = re.findall(r'href="(/api/v1/communities/[^"]+)"', page)
    assert len(links) == 2
    problem_list = links[0].replace("&amp;", "&")
    assert problem_list.startswith("/api/v1/communities/370303001001/problem-list?format=xlsx")
    for part in (
        "grid=370303001001-01",
        "category=safety",
        "from=2026-01-01",
        "status=accepted%2Cassigned%2Crectifying",
    ):
        assert part in problem_list
    assert "导出问题清单" in page and "导出整改清单" in page
    # The link works with the session cookie alone.
    resp = client.get(problem_list)
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")


def test_street_admin_exports_once_a_community_is_chosen(client, conn):
    make_problem(conn)
    console_login(client, "street")
    page = text(client.get("/console/problems"))
    assert "选择社区或网格后可导出" in page
    assert "杏园社区（全社区）" in page
    page = text(client.get("/console/problems?grid=370303001001"))
    assert "/api/v1/communities/370303001001/problem-list" in page


# --- the problem page ----------------------------------------------------------------------


def test_problem_page_fields_and_timeline(secretary, conn):
    pid = make_problem(conn, "assigned", due_at="2026-12-04T15:59:59Z", urgency="urgent")
    html = text(secretary.get(f"/console/problems/{pid}"))
    assert f"<h1>{row(conn, pid)['number']}</h1>" in html
    for word in (
        "已交办",
        "紧急",
        "入户走访",
        "网格",
        "消防隐患",
        "安全隐患",
        "王师傅",
        "办理轨迹",
        "上报问题",
    ):
        assert word in html, word
    assert re.search(r"2026-12-04（剩\d+个工作日）|超期\d+个工作日", html)


def test_deadline_dash_before_acceptance(secretary, conn):
    pid = make_problem(conn)
    html = text(secretary.get(f"/console/problems/{pid}"))
    assert re.search(r"<dt>整改时限</dt><dd[^>]*>—", html)


def test_problem_outside_scope_is_a_404_page(secretary, conn):
    other = make_problem(conn, grid=OTHER_GRID)
    resp = secretary.get(f"/console/problems/{other}")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert row(conn, other)["number"] not in text(resp)
    assert secretary.get("/console/problems/not-a-uuid").status_code == 404


def test_exactly_the_allowed_buttons(secretary, client, conn):
    expect = {
        "reported": ["受理", "不予受理", "上报", "延期", "挂起"],
        "accepted": ["交办", "上报", "延期", "挂起"],
        "rectified": ["核验通过", "核验不通过", "上报", "延期", "挂起"],
        "closed": ["评价"],
        "closed_rated_low": ["重办"],
        "rejected": [],
        "suspended": ["上报", "延期", "恢复"],
    }
    for state, buttons in expect.items():
        pid = make_problem(conn, state)
        html = text(secretary.get(f"/console/problems/{pid}"))
        shown = re.findall(
            r'class="btn secondary" href="[^"]+action=[a-z_]+#action-panel"\s+'
            r'hx-get="[^"]+"[^>]*>([^<]+)</a>',
            html,
        )
        assert shown == buttons, (state, shown)
    # 督办 is for street and district staff.
    pid = make_problem(conn, "assigned")
    console_login(client, "street")
    assert ">督办</a>" in text(client.get(f"/console/problems/{pid}"))


def _act(client, pid, button, version=1, csrf=None, **fields):
    data = {"button": button, "base_version": str(version), **fields}
    if csrf is not False:
        data["csrf_token"] = csrf or csrf_of(client)
    return client.post(f"/console/problems/{pid}/actions", data=data)


def test_work_a_problem_from_reported_to_closed(secretary, conn):
    pid = make_problem(conn)
    steps = [
        ("accept", {"note": "已核实"}, "accepted"),
        ("assign", {"responsible_unit": GRID, "responsible_person": "王师傅"}, "assigned"),
        ("start", {}, "rectifying"),
        (
            "rectify",
            {
                "measures": "拆除飞线",
                "cost_resident": "50",
                "cost_society": "",
                "cost_subsidy": "120.5",
            },
            "rectified",
        ),
        ("verify_ok", {"note": "现场核验"}, "closed"),
        ("rate", {"rating": "5", "rating_comment": "满意"}, "closed"),
    ]
    for version, (button, fields, status) in enumerate(steps, start=1):
        form = text(secretary.get(f"/console/problems/{pid}?action={button}"))
        assert ">确定</button>" in form
        resp = _act(secretary, pid, button, version, **fields)
        assert resp.status_code == 303, text(resp)[:800]
        assert row(conn, pid)["status"] == status
        page = text(secretary.get(resp.headers["Location"]))
        assert "操作成功" in page
    final = row(conn, pid)
    assert final["rating"] == 5 and final["cost_share_subsidy"] == 120.5
    assert final["responsible_person"] == "王师傅"
    page = text(secretary.get(f"/console/problems/{pid}"))
    assert "已销号" in page and "核验通过" in page and "现场核验" in page
    events = page[page.index("办理轨迹") :]
    assert events.index("上报问题") < events.index("受理") < events.index("评价")
    assert audit_actions(conn).count("problem.accept") == 1


@pytest.mark.parametrize(
    "button, labels",
    [
        ("assign", ["责任单位", "责任人", "备注"]),
        ("rectify", ["整改措施", "居民分担", "社会分担", "街道补贴", "备注"]),
        ("extend", ["新时限", "延期原因"]),
        ("rate", ["满意度", "评价意见"]),
        ("accept", ["备注"]),
    ],
)
def test_action_forms_are_labelled(secretary, conn, button, labels):
    state = {"assign": "accepted", "rectify": "rectifying", "rate": "closed"}.get(
        button, "reported"
    )
    pid = make_problem(conn, state)
    html = text(secretary.get(f"/console/problems/{pid}?action={button}"))
    form = html[html.index('class="action-form"') :]
    found = re.findall(r'<label for="a-[a-z_]+">([^<]+)</label>', form)
    assert found == labels


def test_supervise_form_is_labelled(client, conn):
    pid = make_problem(conn, "assigned")
    console_login(client, "district")
    html = text(client.get(f"/console/problems/{pid}?action=supervise"))
    assert '<label for="a-note">督办意见</label>' in html
    resp = _act(client, pid, "supervise", note="请三日内办结")
    assert resp.status_code == 303 and row(conn, pid)["supervised"] == 1


def test_extend_reject_and_verify_fail(secretary, conn):
    pid = make_problem(conn, "accepted")
    day = (now() + timedelta(days=30)).astimezone(SHANGHAI).date()
    resp = _act(secretary, pid, "extend", due_date=day.isoformat(), reason="等待配件")
    assert resp.status_code == 303
    due = row(conn, pid)["due_at"]
    assert parse_iso(due).astimezone(SHANGHAI).isoformat() == f"{day}T23:59:59+08:00"
    pid = make_problem(conn, "rectified")
    assert _act(secretary, pid, "verify_fail", note="未整改到位").status_code == 303
    assert row(conn, pid)["status"] == "rectifying"
    pid = make_problem(conn)
    assert _act(secretary, pid, "reject", note="不属实").status_code == 303
    assert row(conn, pid)["status"] == "rejected"


def test_invalid_form_shows_errors_and_changes_nothing(secretary, conn):
    pid = make_problem(conn, "rectifying")
    resp = _act(secretary, pid, "rectify", measures="", cost_resident="abc")
    assert resp.status_code == 422
    html = text(resp)
    assert 'class="errors"' in html and ">确定</button>" in html
    assert row(conn, pid)["status"] == "rectifying" and row(conn, pid)["version"] == 1
    resp = _act(secretary, pid, "extend", due_date="2001-01-01", reason="x")
    assert resp.status_code == 303 or resp.status_code == 422


def test_stale_action_says_someone_else_acted(secretary, conn):
    pid = make_problem(conn)
    assert _act(secretary, pid, "accept").status_code == 303
    # A second form still holding version 1 (another user acted first).
    resp = _act(secretary, pid, "accept", version=1)
    assert resp.status_code == 303
    page = text(secretary.get(resp.headers["Location"]))
    assert "该问题已被他人更新" in page and "当前状态：已受理" in page
    assert row(conn, pid)["version"] == 2


def test_action_without_csrf_is_403_and_changes_nothing(secretary, conn):
    pid = make_problem(conn)
    resp = _act(secretary, pid, "accept", csrf=False)
    assert resp.status_code == 403
    assert row(conn, pid)["status"] == "reported" and row(conn, pid)["version"] == 1
    resp = _act(secretary, pid, "accept", csrf="wrong-token")
    assert resp.status_code == 403 and row(conn, pid)["version"] == 1
    # The htmx header works as the form field does.
    token = csrf_of(secretary)
    resp = secretary.post(
        f"/console/problems/{pid}/actions",
        data={"button": "accept", "base_version": "1"},
        headers={"X-CSRF-TOKEN": token},
    )
    assert resp.status_code == 303 and row(conn, pid)["status"] == "accepted"


def test_action_on_a_problem_outside_scope_is_404(secretary, conn):
    other = make_problem(conn, grid=OTHER_GRID)
    resp = _act(secretary, other, "accept")
    assert resp.status_code == 404 and row(conn, other)["version"] == 1


def test_action_the_role_may_not_do(secretary, conn):
    pid = make_problem(conn, "assigned")
    resp = _act(secretary, pid, "supervise", note="x")
    assert resp.status_code == 303
    assert "您无权执行此操作" in text(secretary.get(resp.headers["Location"]))
    assert row(conn, pid)["supervised"] == 0


# --- household and photos -----------------------------------------------------------------


def _household(conn):
    with write_tx(conn):
        hid = "0b5a8a7e-8a39-4a37-9b7f-2f4f5f0a0001"
        household_store.insert(
            conn,
            hid,
            {
                "grid_code": GRID,
                "address": "杏园东路175号杏园小区3号楼2单元201室",
                "building": "3",
                "unit_no": "2",
                "room": "201",
                "head_name": "张建国",
                "phone": "13812341234",
                "members": 3,
                "tags": ["elderly_alone"],
            },
        )
    return hid


def test_household_masked_then_unmasked_once_audited(secretary, client, conn):
    pid = make_problem(conn, household_id=_household(conn))
    html = text(secretary.get(f"/console/problems/{pid}"))
    assert "张*" in html and "138****1234" in html and "张建国" not in html
    assert "显示完整信息" in html and "独居老人" in html
    before = audit_actions(conn).count("unmask")
    resp = secretary.post(
        f"/console/problems/{pid}/household", data={"csrf_token": csrf_of(secretary)}
    )
    assert resp.status_code == 200
    assert "张建国" in text(resp) and "13812341234" in text(resp)
    assert audit_actions(conn).count("unmask") == before + 1
    assert secretary.post(f"/console/problems/{pid}/household").status_code == 403
    assert audit_actions(conn).count("unmask") == before + 1


def _jpeg(size=(1200, 800), color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def _upload(client, auth, data):
    sha = hashlib.sha256(data).hexdigest()
    resp = client.put(
        f"/api/v1/blobs/{sha}", data=data, content_type="image/jpeg", headers=auth.headers("worker")
    )
    assert resp.status_code == 201
    return sha


def test_thumbnails_made_once_and_cached(client, auth, conn, app):
    before_sha = _upload(client, auth, _jpeg())
    missing = "a" * 64
    pid = make_problem(conn, photos_before=[before_sha, missing])
    console_login(client, "secretary")
    html = text(client.get(f"/console/problems/{pid}"))
    assert f'src="/console/photos/{before_sha}?size=thumb" alt="整改前照片"' in html
    assert "其中 1 张尚未上传" in html
    resp = client.get(f"/console/photos/{before_sha}?size=thumb")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    thumb = Image.open(io.BytesIO(resp.data))
    assert max(thumb.size) <= 320 and thumb.size == (320, 213)
    resp.close()
    cached = next(
        (app.config and __import__("pathlib").Path(app.config["BLOB_DIR"])).rglob("*.thumb.jpg")
    )
    mtime = cached.stat().st_mtime_ns
    client.get(f"/console/photos/{before_sha}?size=thumb").close()
    assert cached.stat().st_mtime_ns == mtime
    full = client.get(f"/console/photos/{before_sha}")
    assert full.status_code == 200 and full.data == _jpeg()
    full.close()
    assert client.get(f"/console/photos/{before_sha}?size=huge").status_code == 404


def test_photos_only_for_those_who_may_read_them(client, auth, conn):
    sha = _upload(client, auth, _jpeg(color=(1, 2, 3)))
    make_problem(conn, photos_before=[sha])
    console_login(client, "secretary2")  # another community
    assert client.get(f"/console/photos/{sha}?size=thumb").status_code == 404
    assert client.get(f"/console/photos/{sha}").status_code == 404
    assert client.get(f"/console/photos/{'0' * 64}").status_code == 404
    assert client.get("/console/photos/../../etc/passwd").status_code == 404


def test_queue_counts_and_page_read_indexes_only(app, conn, user_ids):
    """Every queue's count and the page's id query search an index (migration 5's covering
    ones for all but the narrow deadline ranges), without statistics: never a table scan."""
    from lifecycle_helpers import scope_for

    from survey_api.services import problem_queue
    from survey_api.storage import problem_queries

    for _ in range(3):
        make_problem(conn)
    scope = scope_for(conn, user_ids["secretary"])
    at = now()
    base = problem_queue._criteria(conn, scope, problem_queue.Filters(), at)
    for name in problem_queue.QUEUES:
        criteria = problem_queue._merge(base, problem_queue._queue_criteria(conn, name, at))
        where, params = problem_queries.condition(criteria)
        plan = " ".join(
            r[3]
            for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT count(*) FROM problems WHERE {where}", params
            )
        )
        assert "SEARCH problems USING" in plan and "SCAN problems" not in plan, (name, plan)
        if name not in ("due_soon", "overdue"):
            assert "COVERING INDEX problems_queue" in plan, (name, plan)
        plan = " ".join(
            r[3]
            for r in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT id FROM problems WHERE {where}"
                " ORDER BY reported_at DESC, id DESC LIMIT 51",
                params,
            )
        )
        assert "SEARCH problems USING" in plan and "SCAN problems" not in plan, (name, plan)
        if name not in ("due_soon", "overdue"):
            assert "COVERING INDEX problems_queue" in plan, (name, plan)
