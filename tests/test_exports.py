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
    resp = client.get(url, query_string={**PERIOD, "format": fmt, **params},
                      headers=auth.headers(user))
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
    assert rows[0][-2:] == ["户主姓名", "联系电话"]
    assert len(rows[0]) == 27
    assert len(rows) == 1 + 7
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["问题编号"] == "370303001001-2026-0001"
    assert first["发现日期"] == "2026-11-02 09:00:00"      # Asia/Shanghai wall clock
    assert first["户主姓名"] == "张*" and first["联系电话"] == "138****1234"
    assert first["满意度"] == "5" and first["是否超期"] == "false"
    assert first["费用分担(社会)"] == "200.5" and first["费用分担(居民)"] == "100"
    assert [r[19] for r in rows[1:]] == ["false", "true", "false", "false", "false", "false",
                                         "false"]


def test_csv_english_headers_same_values(client, auth, data):
    zh = read_csv(export(client, auth, PL, "csv"))
    en = read_csv(export(client, auth, PL, "csv", lang="en"))
    assert en[0][:3] == ["seq", "number", "reported_at"]  # English headers = JSON keys
    assert en[1:] == zh[1:]


def test_problem_list_xlsx(client, auth, data):
    resp = export(client, auth, PL, "xlsx")
    assert resp.headers["Content-Type"] == XLSX_TYPE
    ws = read_xlsx(resp)
    title = ws["A1"].value
    assert title.startswith("杏园社区 问题清单 2026-11-01–2026-11-30 导出于 ")
    datetime.strptime(title.rsplit("导出于 ", 1)[1], "%Y-%m-%d %H:%M")
    header = [c.value for c in ws[2]]
    assert header[:3] == ["序号", "问题编号", "发现日期"] and len(header) == 27
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:AA9"
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 7
    first = dict(zip(header, rows[0], strict=True))
    assert first["序号"] == 1
    assert first["发现日期"] == datetime(2026, 11, 2, 9, 0)
    assert isinstance(first["整改时限"], datetime) and isinstance(first["销号时间"], datetime)
    assert first["户主姓名"] == "张*" and first["联系电话"] == "138****1234"
    assert first["是否超期"] is False and first["满意度"] == 5
    assert first["费用分担(社会)"] == 200.5
    second = dict(zip(header, rows[1], strict=True))
    assert second["是否超期"] is True and second["督办"] is True and second["完成时间"] is None
    assert ws.column_dimensions["J"].width > ws.column_dimensions["A"].width  # description


def test_rectification_list_xlsx_english(client, auth, data):
    ws = read_xlsx(export(client, auth, RL, "xlsx", lang="en"))
    assert ws["A1"].value.startswith(
        "杏园社区 Rectification list 2026-11-01–2026-11-30 exported at ")
    header = [c.value for c in ws[2]]
    json_keys = list(client.get(RL, query_string=PERIOD, headers=auth.headers("secretary"))
                     .get_json()["items"][0])
    assert header == json_keys and len(header) == 19
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [r["number"][-4:] for r in rows] == ["0001", "0002", "0004", "0007", "0008"]
    assert [r["overdue"] for r in rows] == [False, True, False, False, False]
    assert [r["rating"] for r in rows] == [5, None, 2, None, None]
    assert rows[0]["accepted_at"] == datetime(2026, 11, 2, 10, 0)


def test_visit_ledger_exports(client, auth, data):
    rows = read_csv(export(client, auth, LEDGER, "csv"))
    header = rows[0]
    assert header[:3] == ["序号", "住户ID", "地址"]
    table = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    # One row per visit; h2's single not_home visit; seq numbers households.
    assert [(r["序号"], r["走访结果"], r["是否走访"]) for r in table] == [
        ("1", "not_home", "true"), ("1", "met", "true"), ("2", "not_home", "false")]
    assert {r["房号"] for r in table} == {"*"} and table[0]["户主姓名"] == "张*"
    assert table[0]["标签"] == "elderly_alone"
    ws = read_xlsx(export(client, auth, "/api/v1/grids/370303001001-02/visit-ledger", "xlsx"))
    assert ws["A1"].value.startswith("杏园二网格 走访台账 2026-11-01–2026-11-30 导出于 ")
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 1 and rows[0][9] is False and rows[0][10] is None  # never visited


def test_unmasked_export_is_audited_twice(client, auth, data, user_ids):
    ws = read_xlsx(export(client, auth, PL, "xlsx", unmask="true"))
    header = [c.value for c in ws[2]]
    first = dict(zip(header, next(ws.iter_rows(min_row=3, values_only=True)), strict=True))
    assert first["户主姓名"] == "张三" and first["联系电话"] == "13812341234"
    items = client.get("/api/v1/audit", headers=auth.headers("admin")).get_json()["items"]
    mine = [i for i in items if i["actor"] == user_ids["secretary"]
            and i["action"] in ("export", "unmask")]
    assert sorted(i["action"] for i in mine) == ["export", "unmask"]
    assert all(i["target"] == COMMUNITY and i["details"]["format"] == "xlsx"
               and i["details"]["unmask"] is True for i in mine)


def test_every_export_is_audited(client, auth, data):
    for url in (PL, RL, LEDGER, SUMMARY):
        for fmt in ("csv", "xlsx"):
            export(client, auth, url, fmt, user="street")
    items = client.get("/api/v1/audit?action=export&limit=1000",
                       headers=auth.headers("admin")).get_json()["items"]
    assert len(items) == 8
    assert {(i["details"]["list"], i["details"]["format"]) for i in items} == {
        (n, f) for n in ("problem-list", "rectification-list", "visit-ledger", "summary")
        for f in ("csv", "xlsx")}


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
    assert table["370303001000"]["户数"] == "4"
    assert table["370303001001"]["发现问题数"] == "6"
    assert table["370303001001"]["问题数-消防隐患"] == "2"
    ws = read_xlsx(export(client, auth, SUMMARY, "xlsx", user="street", lang="en"))
    assert ws["A1"].value.startswith("车站街道 Summary ")
    assert ws.freeze_panes == "A3"


def test_export_refusals(client, auth, data):
    assert_problem(client.get(PL, query_string={"format": "csv", "unmask": "true"},
                              headers=auth.headers("worker")), 403, "UNMASK_FORBIDDEN")
    assert_problem(client.get(PL, query_string={"format": "xlsx"},
                              headers=auth.headers("secretary2")), 403, "OUT_OF_SCOPE")
    items = client.get("/api/v1/audit?action=export", headers=auth.headers("admin")) \
        .get_json()["items"]
    assert items == []


def test_csv_cells_never_become_formulas():
    from survey_api.exports.columns import Column
    from survey_api.exports.csv_writer import csv_chunks

    columns = [Column("description", "问题描述"), Column("phone", "联系电话"),
               Column("rating", "满意度", "int")]
    rows = [{"description": '=HYPERLINK("http://x","点我")', "phone": "+86 138 0000 1111",
             "rating": -1},
            {"description": "@SUM(A1)", "phone": "-", "rating": None},
            {"description": "+cmd|' /C calc'!A0", "phone": "138-0000-1111", "rating": 5},
            {"description": "普通描述 = 正常", "phone": None, "rating": None}]
    text = b"".join(csv_chunks(columns, rows, "zh"))[3:].decode()
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert [r[0] for r in parsed[1:]] == ['\'=HYPERLINK("http://x","点我")', "'@SUM(A1)",
                                          "'+cmd|' /C calc'!A0", "普通描述 = 正常"]
    assert [r[1] for r in parsed[1:]] == ["+86 138 0000 1111", "-", "138-0000-1111", ""]
    assert [r[2] for r in parsed[1:]] == ["-1", "", "5", ""]


@pytest.mark.parametrize("url", [PL, RL])
@pytest.mark.parametrize("unmask", ["false", "true"])
def test_csv_fast_path_equals_the_generic_writer(app, client, auth, data, url, unmask):
    """The problem lists' CSV is formatted by SQLite; it must equal the generic writer's."""
    from survey_api.db import connect, write_tx
    from survey_api.exports.csv_writer import csv_chunks
    from survey_api.exports.layouts import LAYOUTS
    from survey_api.services.lists import problem_export_rows
    from survey_api.storage import problems

    conn = connect(app.config["DATABASE"])
    with write_tx(conn):   # awkward values: formulas, fractions of seconds, odd amounts
        problems.update(conn, data["p2"], {
            "description": "=HYPERLINK(\"x\")", "measures": "-拆除", "responsible_person": "+1",
            "due_at": "2026-11-06T15:59:59.999999+00:00", "cost_share_resident": 0.1,
            "cost_share_society": 1e6, "cost_share_subsidy": 0})
        conn.execute("UPDATE households SET head_name = '@坏', phone = '+86 138 1234 5678'"
                     " WHERE id = ?", (data["h2"],))
    kind = url.rsplit("/", 1)[1]
    resp = export(client, auth, url, "csv", unmask=unmask)
    columns = LAYOUTS[kind][0]
    from survey_api.timeutil import now_iso
    filters = dict(lo="2026-10-31T16:00:00.000000+00:00", hi="2026-11-30T15:59:59.999999+00:00",
                   status=None, category=None, grid=None, overdue=None, supervised=None)
    generic = b"".join(csv_chunks(columns, problem_export_rows(
        conn, kind, COMMUNITY, now=now_iso(), unmask=unmask == "true", filters=filters), "zh"))
    conn.close()
    assert resp.get_data() == generic
    assert b"'=HYPERLINK" in generic


def test_xlsx_fast_rows_read_back_like_xlsxwriter_api(tmp_path):
    """The directly written row XML reads back exactly like XlsxWriter's own cells."""
    from survey_api.exports.columns import Column
    from survey_api.exports.xlsx_writer import write_xlsx

    columns = [Column("text", "文本"), Column("n", "数", "number"), Column("i", "整数", "int"),
               Column("at", "时间", "datetime"), Column("flag", "是否", "bool")]
    rows = [
        {"text": "a & b < c > d \"q\" 'x'", "n": 200.5, "i": 7,
         "at": "2026-11-05T15:59:59.999999+00:00", "flag": True},
        {"text": " leading and trailing ", "n": 0.1, "i": 0, "at": "2026-01-01T00:00:00Z",
         "flag": False},
        {"text": "ctrl\x01\x1fchar _x0041_ \ufffe", "n": 1e6, "i": -3,
         "at": "1999-12-31T16:00:00+00:00", "flag": None},
        {"text": "杏园社区\n第二行", "n": None, "i": None, "at": None, "flag": None},
        {"text": "", "n": 3, "i": 1, "at": "2026-11-02T01:00:00.000000+00:00", "flag": 1},
    ]
    fast, api = tmp_path / "fast.xlsx", tmp_path / "api.xlsx"
    assert write_xlsx(str(fast), columns, iter(rows), "zh", "标题") == 5
    write_xlsx(str(api), columns, iter(rows), "zh", "标题", fast=False)
    sheets = [openpyxl.load_workbook(p).active for p in (fast, api)]
    values = [list(ws.iter_rows(values_only=True)) for ws in sheets]
    assert values[0] == values[1]
    assert values[0][2][3] == datetime(2026, 11, 5, 23, 59, 59)
    assert values[0][4][3] == datetime(2000, 1, 1, 0, 0)
    assert [c.number_format for c in sheets[0][3]] == [c.number_format for c in sheets[1][3]]
    assert sheets[0].auto_filter.ref == sheets[1].auto_filter.ref == "A2:E7"
    assert sheets[0].freeze_panes == "A3"


@pytest.mark.parametrize("url", [PL, RL])
@pytest.mark.parametrize("unmask", ["false", "true"])
def test_xlsx_fast_path_equals_the_generic_rows(app, client, auth, data, url, unmask, tmp_path):
    """The problem lists' XLSX is fed typed tuples from SQLite; it must read back like the
    workbook the JSON rows make."""
    from survey_api.db import connect, write_tx
    from survey_api.exports.layouts import LAYOUTS
    from survey_api.exports.xlsx_writer import write_xlsx
    from survey_api.services.lists import problem_export_rows
    from survey_api.storage import problems
    from survey_api.timeutil import now_iso

    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        problems.update(conn, data["p2"], {
            "description": "<b>&\x01 _x0041_", "measures": " 前后空格 ",
            "due_at": "2026-11-06T15:59:59.999999+00:00", "cost_share_resident": 0.1,
            "cost_share_society": 1e6, "cost_share_subsidy": 0})
    kind = url.rsplit("/", 1)[1]
    fast = read_xlsx(export(client, auth, url, "xlsx", unmask=unmask))
    filters = dict(lo="2026-10-31T16:00:00.000000+00:00", hi="2026-11-30T15:59:59.999999+00:00",
                   status=None, category=None, grid=None, overdue=None, supervised=None)
    path = tmp_path / "generic.xlsx"
    write_xlsx(str(path), LAYOUTS[kind][0], problem_export_rows(
        conn, kind, COMMUNITY, now=now_iso(), unmask=unmask == "true", filters=filters),
        "zh", "title")
    conn.close()
    generic = openpyxl.load_workbook(path).active
    assert list(fast.iter_rows(min_row=2, values_only=True)) == \
        list(generic.iter_rows(min_row=2, values_only=True))
    assert fast.auto_filter.ref == generic.auto_filter.ref
