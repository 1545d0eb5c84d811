"""Exports: CSV (BOM, CRLF, header row 1) and XLSX (title, header, frozen pane, autofilter,
real dates), masking, audit and file names."""

import csv
import io
from datetime import datetime
from urllib.parse import unquote

import openpyxl
import pytest
from conftest import assert_problem
from list_data import PERIOD, build

COMMUNITY = "370303001001"
PL = f"/api/v1/communities/{COMMUNITY}/problem-list"
RL = f"/api/v1/communities/{COMMUNITY}/rectification-list"
LEDGER = "/api/v1/grids/370303001001-01/visit-ledger"
SUMMARY = "/api/v1/units/370303001000/summary"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def data(app, user_ids):
    return build(app.config["DATABASE"], user_ids["worker"])


def export(client, auth, url, fmt, user="secretary", **params):
    resp = client.get(
        url, query_string={**PERIOD, "format": fmt, **params}, headers=auth.headers(user)
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp


def read_csv(resp):
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_xlsx(resp):
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    return wb.active


def test_problem_list_csv(client, auth, data):
    resp = export(client, auth, PL, "csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(resp)
    assert rows[0][:4] == ["序号", "问题编号", "发现日期", "来源"]
    assert rows[0][7] == "问题大类" and rows[0][16:18] == ["整改时限", "剩余时限"]
    assert rows[0][-2:] == ["户主姓名", "联系电话"]
    assert len(rows[0]) == 28
    assert len(rows) == 1 + 7
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["问题编号"] == "370303001001-2026-0001"
    assert first["发现日期"] == "2026-11-02 09:00:00"  # Asia/Shanghai wall clock
    assert first["户主姓名"] == "张*" and first["联系电话"] == "138****1234"
    assert first["满意度"] == "5" and first["是否超期"] == "否"
    assert first["费用分担(社会)"] == "200.5" and first["费用分担(居民)"] == "100"
    # every coded cell as its label (DESIGN §11)
    assert (
        first["来源"],
        first["问题大类"],
        first["类别"],
        first["紧急程度"],
        first["状态"],
        first["层级"],
        first["督办"],
        first["剩余时限"],
    ) == ("入户走访", "安全隐患", "消防隐患", "一般", "已销号", "网格", "否", "已完成")
    assert [r[20] for r in rows[1:]] == ["否", "是", "否", "否", "否", "否", "否"]
    assert [r[11] for r in rows[1:]] == [
        "已销号",
        "整改中",
        "不予受理",
        "已销号",
        "待受理",
        "已交办",
        "已挂起",
    ]


def test_csv_english_same_columns_with_codes(client, auth, data):
    zh = read_csv(export(client, auth, PL, "csv"))
    en = read_csv(export(client, auth, PL, "csv", lang="en"))
    json_keys = list(
        client.get(PL, query_string=PERIOD, headers=auth.headers("secretary")).get_json()["items"][
            0
        ]
    )
    # English headers = the JSON keys, 剩余时限 (time_left) after due_at
    assert en[0] == [*json_keys[:17], "time_left", *json_keys[17:]]
    assert len(en[0]) == len(zh[0]) and len(en) == len(zh)
    first = dict(zip(en[0], en[1], strict=True))
    assert (
        first["source"],
        first["category"],
        first["category_name"],
        first["urgency"],
        first["status"],
        first["level"],
        first["overdue"],
        first["time_left"],
    ) == ("visit", "safety.fire", "消防隐患", "normal", "closed", "grid", "false", "已完成")
    coded = {"source", "category", "urgency", "status", "level", "overdue", "supervised"}
    for zh_row, en_row in zip(zh[1:], en[1:], strict=True):
        assert [z for z, k in zip(zh_row, en[0], strict=True) if k not in coded] == [
            e for e, k in zip(en_row, en[0], strict=True) if k not in coded
        ]


def test_time_left_column(app, client, auth, data):
    """剩余时限 is TimeLeft's text as of the export: 已完成, 超期N个工作日, 剩N个工作日 or empty."""
    from survey_api.db import connect
    from survey_api.services.deadlines import TimeLeft
    from survey_api.timeutil import now

    rows = read_csv(export(client, auth, PL, "csv"))
    by_number = {r[1][-4:]: dict(zip(rows[0], r, strict=True))["剩余时限"] for r in rows[1:]}
    items = client.get(PL, query_string=PERIOD, headers=auth.headers("secretary")).get_json()[
        "items"
    ]
    conn = connect(app.config["DATABASE"])
    time_left = TimeLeft(conn, now())
    expected = {i["number"][-4:]: time_left.text(i["status"], i["due_at"]) for i in items}
    conn.close()
    assert by_number == expected
    # p1 and p4 closed, p2 overdue since 6 Nov, p3 rejected, p5 not accepted, p7 due in 2099,
    # p8 suspended
    assert by_number["0001"] == by_number["0004"] == "已完成"
    assert by_number["0002"].startswith("超期") and by_number["0002"].endswith("个工作日")
    assert by_number["0007"].startswith("剩")
    assert by_number["0003"] == by_number["0005"] == by_number["0008"] == ""
    ws = read_xlsx(export(client, auth, RL, "xlsx"))
    header = [c.value for c in ws[2]]
    cells = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [(c["问题编号"][-4:], c["剩余时限"]) for c in cells] == [
        (n, by_number[n] or None) for n in ("0001", "0002", "0004", "0007", "0008")
    ]


def test_problem_list_xlsx(client, auth, data):
    resp = export(client, auth, PL, "xlsx")
    assert resp.headers["Content-Type"] == XLSX_TYPE
    ws = read_xlsx(resp)
    title = ws["A1"].value
    assert title.startswith("杏园社区 问题清单 2026-11-01–2026-11-30 导出于 ")
    datetime.strptime(title.rsplit("导出于 ", 1)[1], "%Y-%m-%d %H:%M")
    header = [c.value for c in ws[2]]
    assert header[:3] == ["序号", "问题编号", "发现日期"] and len(header) == 28
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:AB9"
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 7
    first = dict(zip(header, rows[0], strict=True))
    assert first["序号"] == 1
    assert first["发现日期"] == datetime(2026, 11, 2, 9, 0)
    assert isinstance(first["整改时限"], datetime) and isinstance(first["销号时间"], datetime)
    assert first["户主姓名"] == "张*" and first["联系电话"] == "138****1234"
    assert first["是否超期"] == "否" and first["满意度"] == 5
    assert (first["来源"], first["问题大类"], first["状态"], first["剩余时限"]) == (
        "入户走访",
        "安全隐患",
        "已销号",
        "已完成",
    )
    assert first["费用分担(社会)"] == 200.5
    second = dict(zip(header, rows[1], strict=True))
    assert second["是否超期"] == "是" and second["督办"] == "是" and second["完成时间"] is None
    assert second["类别"] == "乱停车占道" and second["问题大类"] == "交通出行"
    assert ws.column_dimensions["J"].width > ws.column_dimensions["A"].width  # description


def _assert_print_setup(ws, columns):
    """A4 landscape, one page wide, rows 1–2 on every page, page footer, borders, wrapping."""
    from openpyxl.utils import get_column_letter

    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    # fitToWidth is absent when 1 (the OOXML default); fitToHeight 0 = as many pages as needed
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$2"
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    last = ws.max_row
    widths = {i: d.width for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        assert widths[index] == pytest.approx(column.width, abs=0.72), column.key
        header, cell = ws[f"{letter}2"], ws[f"{letter}{last}"]
        assert header.border.left.style == "thin" and header.alignment.wrap_text
        for side in ("left", "right", "top", "bottom"):  # empty cells too
            assert getattr(cell.border, side).style == "thin", (column.key, side)
        assert bool(cell.alignment.wrap_text) == column.wrap, column.key
    return last


@pytest.mark.parametrize("url", [PL, RL, LEDGER, SUMMARY])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_print_setup_on_every_list(client, auth, data, url, lang):
    from survey_api.exports.layouts import LAYOUTS

    ws = read_xlsx(export(client, auth, url, "xlsx", lang=lang, user="street"))
    name = {
        PL: "problem-list",
        RL: "rectification-list",
        LEDGER: "visit-ledger",
        SUMMARY: "summary",
    }[url]
    columns = LAYOUTS[name][0]
    if name != "summary":
        assert ws.max_column == len(columns)
    _assert_print_setup(ws, columns)
    long_text = {"description", "measures", "address", "notes"}
    assert long_text & {c.key for c in columns} <= {c.key for c in columns if c.wrap}


def test_title_says_the_period_in_words(client, auth, data):
    resp = client.get(PL, query_string={"format": "xlsx"}, headers=auth.headers("secretary"))
    ws = read_xlsx(resp)
    assert ws["A1"].value.startswith("杏园社区 问题清单 全部时间 导出于 ")
    cd = resp.headers["Content-Disposition"]
    assert 'filename="370303001001-problem-list-all-time.xlsx"' in cd
    assert unquote(cd.split("filename*=UTF-8''", 1)[1]) == "杏园社区-问题清单-全部时间.xlsx"
    ws = read_xlsx(
        client.get(
            PL,
            query_string={"format": "xlsx", "from": "2026-11-01"},
            headers=auth.headers("secretary"),
        )
    )
    assert ws["A1"].value.startswith("杏园社区 问题清单 2026-11-01 起 导出于 ")
    ws = read_xlsx(
        client.get(
            RL, query_string={"format": "xlsx", "lang": "en"}, headers=auth.headers("secretary")
        )
    )
    assert ws["A1"].value.startswith("杏园社区 Rectification list all time exported at ")


def test_rectification_list_xlsx_english(client, auth, data):
    ws = read_xlsx(export(client, auth, RL, "xlsx", lang="en"))
    assert ws["A1"].value.startswith(
        "杏园社区 Rectification list 2026-11-01–2026-11-30 exported at "
    )
    header = [c.value for c in ws[2]]
    json_keys = list(
        client.get(RL, query_string=PERIOD, headers=auth.headers("secretary")).get_json()["items"][
            0
        ]
    )
    assert header == [*json_keys[:9], "time_left", *json_keys[9:]] and len(header) == 20
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [r["number"][-4:] for r in rows] == ["0001", "0002", "0004", "0007", "0008"]
    assert [r["overdue"] for r in rows] == [False, True, False, False, False]
    assert [r["status"] for r in rows] == [
        "closed",
        "rectifying",
        "closed",
        "assigned",
        "suspended",
    ]
    assert [r["rating"] for r in rows] == [5, None, 2, None, None]
    assert rows[0]["accepted_at"] == datetime(2026, 11, 2, 10, 0)
    assert rows[0]["time_left"] == "已完成"


def test_visit_ledger_exports(client, auth, data):
    rows = read_csv(export(client, auth, LEDGER, "csv"))
    header = rows[0]
    assert header[:3] == ["序号", "住户ID", "地址"]
    table = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    # One row per visit; h2's single not_home visit; seq numbers households.
    assert [(r["序号"], r["走访结果"], r["是否走访"]) for r in table] == [
        ("1", "不在家", "是"),
        ("1", "已见面", "是"),
        ("2", "不在家", "否"),
    ]
    assert {r["房号"] for r in table} == {"*"} and table[0]["户主姓名"] == "张*"
    assert table[0]["标签"] == "独居老人"
    en = read_csv(export(client, auth, LEDGER, "csv", lang="en"))
    assert [(r[0], r[11], r[9], r[8]) for r in en[1:]] == [
        ("1", "not_home", "true", "elderly_alone"),
        ("1", "met", "true", "elderly_alone"),
        ("2", "not_home", "false", ""),
    ]
    ws = read_xlsx(export(client, auth, "/api/v1/grids/370303001001-02/visit-ledger", "xlsx"))
    assert ws["A1"].value.startswith("杏园二网格 走访台账 2026-11-01–2026-11-30 导出于 ")
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1 and rows[0][9] == "否" and rows[0][10] is None  # never visited
    assert rows[0][8] == "出租户"


def test_unmasked_export_is_audited_twice(client, auth, data, user_ids):
    ws = read_xlsx(export(client, auth, PL, "xlsx", unmask="true"))
    header = [c.value for c in ws[2]]
    first = dict(zip(header, next(ws.iter_rows(min_row=3, values_only=True)), strict=True))
    assert first["户主姓名"] == "张三" and first["联系电话"] == "13812341234"
    items = client.get("/api/v1/audit", headers=auth.headers("admin")).get_json()["items"]
    mine = [
        i
        for i in items
        if i["actor"] == user_ids["secretary"] and i["action"] in ("export", "unmask")
    ]
    assert sorted(i["action"] for i in mine) == ["export", "unmask"]
    assert all(
        i["target"] == COMMUNITY
        and i["details"]["format"] == "xlsx"
        and i["details"]["unmask"] is True
        for i in mine
    )


def test_every_export_is_audited(client, auth, data):
    for url in (PL, RL, LEDGER, SUMMARY):
        for fmt in ("csv", "xlsx"):
            export(client, auth, url, fmt, user="street")
    items = client.get(
        "/api/v1/audit?action=export&limit=1000", headers=auth.headers("admin")
    ).get_json()["items"]
    assert len(items) == 8
    assert {(i["details"]["list"], i["details"]["format"]) for i in items} == {
        (n, f)
        for n in ("problem-list", "rectification-list", "visit-ledger", "summary")
        for f in ("csv", "xlsx")
    }


def test_content_disposition(client, auth, data):
    resp = export(client, auth, PL, "xlsx")
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment; ")
    assert 'filename="370303001001-problem-list-2026-11-01_2026-11-30.xlsx"' in cd
    encoded = cd.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "杏园社区-问题清单-2026-11-01_2026-11-30.xlsx"
    assert all(ord(c) < 128 for c in cd)


def test_summary_exports(client, auth, data):
    rows = read_csv(export(client, auth, SUMMARY, "csv", user="street"))
    header = rows[0]
    assert header[:4] == ["单位编码", "单位", "层级", "户数"]
    table = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(table) == {"370303001001", "370303001002", "370303001000"}
    assert table["370303001000"]["户数"] == "4" and table["370303001000"]["层级"] == "街道"
    assert table["370303001001"]["层级"] == "社区"
    assert table["370303001001"]["发现问题数"] == "6"
    assert table["370303001001"]["问题数-消防隐患"] == "2"
    en = read_csv(export(client, auth, SUMMARY, "csv", user="street", lang="en"))
    assert [r[2] for r in en[1:]] == ["community", "community", "street"]
    ws = read_xlsx(export(client, auth, SUMMARY, "xlsx", user="street", lang="en"))
    assert ws["A1"].value.startswith("车站街道 Summary ")
    assert ws.freeze_panes == "A3"


def test_summary_xlsx_has_a_native_chart(client, auth, data):
    """Coverage and rectification rate by child unit: a column chart in the workbook's XML
    (Excel and WPS draw it; no image, no macro), over the children's rows of the table."""
    import zipfile

    resp = export(client, auth, SUMMARY, "xlsx", user="street")
    archive = zipfile.ZipFile(io.BytesIO(resp.get_data()))
    names = archive.namelist()
    assert "xl/charts/chart1.xml" in names and "xl/drawings/drawing1.xml" in names
    assert not any(n.startswith("xl/media/") or n.endswith(".bin") for n in names)
    chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and '<c:barDir val="col"/>' in chart
    assert chart.count("<c:ser>") == 2
    # series names are the header cells, categories the children's names (rows 3–4)
    assert "'汇总统计'!$F$2" in chart and "'汇总统计'!$I$2" in chart
    assert "'汇总统计'!$B$3:$B$4" in chart
    assert "'汇总统计'!$F$3:$F$4" in chart and "'汇总统计'!$I$3:$I$4" in chart
    assert "各下级单位走访覆盖率与整改率" in chart
    ws = openpyxl.load_workbook(io.BytesIO(resp.get_data())).active
    assert ws.title == "汇总统计"  # the table is on the first sheet
    assert [ws["F2"].value, ws["I2"].value] == ["走访覆盖率(%)", "整改率(%)"]
    assert ws["B3"].value == "杏园社区" and ws["A4"].value == "370303001002"
    # a grid has no children: its summary has the table and no chart
    grid = export(client, auth, "/api/v1/units/370303001001-01/summary", "xlsx", user="street")
    assert not any(
        n.startswith("xl/charts/") for n in zipfile.ZipFile(io.BytesIO(grid.get_data())).namelist()
    )


def test_export_refusals(client, auth, data):
    assert_problem(
        client.get(
            PL, query_string={"format": "csv", "unmask": "true"}, headers=auth.headers("worker")
        ),
        403,
        "UNMASK_FORBIDDEN",
    )
    assert_problem(
        client.get(PL, query_string={"format": "xlsx"}, headers=auth.headers("secretary2")),
        403,
        "OUT_OF_SCOPE",
    )
    items = client.get("/api/v1/audit?action=export", headers=auth.headers("admin")).get_json()[
        "items"
    ]
    assert items == []


def test_csv_cells_never_become_formulas():
    from survey_api.exports.columns import Column
    from survey_api.exports.csv_writer import csv_chunks

    columns = [
        Column("description", "问题描述"),
        Column("phone", "联系电话"),
        Column("rating", "满意度", "int"),
    ]
    rows = [
        {
            "description": '=HYPERLINK("http://x","点我")',
            "phone": "+86 138 0000 1111",
            "rating": -1,
        },
        {"description": "@SUM(A1)", "phone": "-", "rating": None},
        {"description": "+cmd|' /C calc'!A0", "phone": "138-0000-1111", "rating": 5},
        {"description": "普通描述 = 正常", "phone": None, "rating": None},
    ]
    text = b"".join(csv_chunks(columns, rows, "zh"))[3:].decode()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in parsed[1:]] == [
        '\'=HYPERLINK("http://x","点我")',
        "'@SUM(A1)",
        "'+cmd|' /C calc'!A0",
        "普通描述 = 正常",
    ]
    assert [r[1] for r in parsed[1:]] == ["+86 138 0000 1111", "-", "138-0000-1111", ""]
    assert [r[2] for r in parsed[1:]] == ["-1", "", "5", ""]


def _reference_rows(app, client, auth, url, unmask):
    """The list's rows as dicts from its JSON pages, with the two export-only keys added in
    Python: category_group (the parent category's name) and time_left (TimeLeft)."""
    from survey_api.db import connect
    from survey_api.services.deadlines import TimeLeft
    from survey_api.timeutil import now

    items = client.get(
        url,
        query_string={**PERIOD, "limit": 1000, "unmask": unmask},
        headers=auth.headers("secretary"),
    ).get_json()["items"]
    conn = connect(app.config["DATABASE"])
    parents = dict(
        conn.execute(
            "SELECT c.code, p.name FROM categories c JOIN categories p ON p.code = c.parent_code"
        )
    )
    time_left = TimeLeft(conn, now())
    rows = []
    for item in items:
        status = item.get("status")
        due_at = item["due_at"]
        rows.append(
            {
                **item,
                "category_group": parents.get(item.get("category")),
                "time_left": time_left.text(status, due_at),
            }
        )
    conn.close()
    return rows


def _awkward(app, data):
    """Values that test the SQL renderers: formulas, fractions of seconds, odd amounts."""
    from survey_api.db import connect, write_tx
    from survey_api.storage import problems

    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        problems.update(
            conn,
            data["p2"],
            {
                "description": '=HYPERLINK("x") <b>&\x01 _x0041_',
                "measures": "-拆除",
                "responsible_person": "+1",
                "due_at": "2026-11-06T15:59:59.999999+00:00",
                "cost_share_resident": 0.1,
                "cost_share_society": 1e6,
                "cost_share_subsidy": 0,
                "source": "hotline",
                "urgency": "urgent",
            },
        )
        conn.execute(
            "UPDATE households SET head_name = '@坏', phone = '+86 138 1234 5678' WHERE id = ?",
            (data["h2"],),
        )
    conn.close()


@pytest.mark.parametrize("url", [PL, RL])
@pytest.mark.parametrize("unmask", ["false", "true"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_fast_path_equals_the_generic_writer(app, client, auth, data, url, unmask, lang):
    """The problem lists' CSV is rendered by SQLite (labels included); it must equal what the
    generic writer (used by the ledger and the summary) makes of the JSON rows."""
    from survey_api.exports.csv_writer import csv_chunks
    from survey_api.exports.layouts import LAYOUTS

    _awkward(app, data)
    kind = url.rsplit("/", 1)[1]
    resp = export(client, auth, url, "csv", unmask=unmask, lang=lang)
    generic = b"".join(
        csv_chunks(LAYOUTS[kind][0], _reference_rows(app, client, auth, url, unmask), lang)
    )
    assert resp.get_data() == generic
    assert b"'=HYPERLINK" in generic


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_fast_rows_read_back_like_xlsxwriter_api(tmp_path, lang):
    """The directly written row XML reads back exactly like XlsxWriter's own cells, values
    and styles (borders on empty cells too, wrapping, date format)."""
    from survey_api.exports.columns import Column
    from survey_api.exports.xlsx_writer import write_xlsx

    columns = [
        Column("text", "文本", wrap=True),
        Column("n", "数", "number"),
        Column("i", "整数", "int"),
        Column("at", "时间", "datetime"),
        Column("flag", "是否", "bool"),
        Column("status", "状态", label="status"),
    ]
    rows = [
        {
            "text": "a & b < c > d \"q\" 'x'",
            "n": 200.5,
            "i": 7,
            "at": "2026-11-05T15:59:59.999999+00:00",
            "flag": True,
            "status": "closed",
        },
        {
            "text": " leading and trailing ",
            "n": 0.1,
            "i": 0,
            "at": "2026-01-01T00:00:00Z",
            "flag": False,
            "status": "unknown_code",
        },
        {
            "text": "ctrl\x01\x1fchar _x0041_ \ufffe",
            "n": 1e6,
            "i": -3,
            "at": "1999-12-31T16:00:00+00:00",
            "flag": None,
            "status": None,
        },
        {
            "text": "杏园社区\n第二行",
            "n": None,
            "i": None,
            "at": None,
            "flag": None,
            "status": "reported",
        },
        {
            "text": "",
            "n": 3,
            "i": 1,
            "at": "2026-11-02T01:00:00.000000+00:00",
            "flag": 1,
            "status": "rejected",
        },
    ]
    fast, api = tmp_path / "fast.xlsx", tmp_path / "api.xlsx"
    assert write_xlsx(str(fast), columns, iter(rows), lang, "标题") == 5
    write_xlsx(str(api), columns, iter(rows), lang, "标题", fast=False)
    sheets = [openpyxl.load_workbook(p).active for p in (fast, api)]
    values = [list(ws.iter_rows(values_only=True)) for ws in sheets]
    assert values[0] == values[1]
    assert values[0][2][3] == datetime(2026, 11, 5, 23, 59, 59)
    assert values[0][4][3] == datetime(2000, 1, 1, 0, 0)
    if lang == "zh":
        assert [r[4] for r in values[0][2:]] == ["是", "否", None, None, "是"]
        assert [r[5] for r in values[0][2:]] == [
            "已销号",
            "unknown_code",
            None,
            "待受理",
            "不予受理",
        ]
    else:
        assert [r[4] for r in values[0][2:]] == [True, False, None, None, True]
        assert values[0][2][5] == "closed"

    def styles(ws):
        return [
            (
                c.number_format,
                c.border.left.style,
                c.border.bottom.style,
                bool(c.alignment.wrap_text),
            )
            for row in ws.iter_rows(min_row=3)
            for c in row
        ]

    assert styles(sheets[0]) == styles(sheets[1])
    assert {s[1] for s in styles(sheets[0])} == {"thin"}
    assert sheets[0].auto_filter.ref == sheets[1].auto_filter.ref == "A2:F7"
    assert sheets[0].freeze_panes == "A3"


@pytest.mark.parametrize("url", [PL, RL])
@pytest.mark.parametrize("unmask", ["false", "true"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_fast_path_equals_the_generic_rows(
    app, client, auth, data, url, unmask, lang, tmp_path
):
    """The problem lists' XLSX is fed typed tuples from SQLite; it must read back like the
    workbook the JSON rows make through the generic writer."""
    from survey_api.exports.layouts import LAYOUTS
    from survey_api.exports.xlsx_writer import write_xlsx

    _awkward(app, data)
    kind = url.rsplit("/", 1)[1]
    fast = read_xlsx(export(client, auth, url, "xlsx", unmask=unmask, lang=lang))
    path = tmp_path / "generic.xlsx"
    write_xlsx(
        str(path), LAYOUTS[kind][0], _reference_rows(app, client, auth, url, unmask), lang, "title"
    )
    generic = openpyxl.load_workbook(path).active
    assert list(fast.iter_rows(min_row=2, values_only=True)) == list(
        generic.iter_rows(min_row=2, values_only=True)
    )
    assert fast.auto_filter.ref == generic.auto_filter.ref
