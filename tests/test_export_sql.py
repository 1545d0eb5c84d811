"""The problem lists' exports are written by SQLite (storage/lists.py): its SQL twins of
TimeLeft, of the XLSX cell XML and of the row heights must agree with the Python originals."""

import io
import zipfile
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from test_exports import PL, RL, _reference_rows, data, export, read_xlsx  # noqa: F401

from survey_api.db import connect, write_tx
from survey_api.services.deadlines import TimeLeft
from survey_api.statuses import STATUSES
from survey_api.storage import lists as list_store
from survey_api.timeutil import iso, local_date, parse_iso


def test_time_left_sql_agrees_with_time_left(app):
    """剩余时限 in SQL (the due dates' texts from TimeLeft.day_texts, joined by local date)
    equals TimeLeft.text for every status and due times around now, midnight (local) and
    the fraction of a second before it."""
    conn = connect(app.config["DATABASE"])
    now = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)  # 15:30 in Shanghai, a Wednesday
    time_left = TimeLeft(conn, now)
    dues = [now + timedelta(hours=h) for h in range(-24 * 40, 24 * 40, 5)]
    dues += [now, now + timedelta(microseconds=1), now - timedelta(microseconds=1)]
    dues += [datetime(2026, 11, 25, 15, 59, 59, 999999, tzinfo=UTC)]  # 23:59:59.999999 local
    dues += [datetime(2026, 11, 25, 16, 0, tzinfo=UTC)]  # the next local day
    cases = [(status, iso(due)) for status in STATUSES for due in dues]
    cases += [(status, None) for status in STATUSES]
    days = sorted({local_date(parse_iso(due)) for _status, due in cases if due})
    list_store.stage_time_left(conn, [(d.isoformat(), *time_left.day_texts(d)) for d in days])
    conn.execute("CREATE TEMP TABLE cases (n INTEGER, status TEXT, due_at TEXT)")
    conn.executemany(
        "INSERT INTO temp.cases VALUES (?, ?, ?)", [(i, *c) for i, c in enumerate(cases)]
    )
    got = conn.execute(
        f"SELECT {list_store.TIME_LEFT_SQL} FROM temp.cases p ORDER BY n",
        {"now": iso(now), "time_left_done": TimeLeft.DONE_TEXT},
    ).fetchall()
    expected = [time_left.text(status, due) for status, due in cases]
    assert [row[0] for row in got] == expected
    assert {"已完成", ""} < set(expected)
    assert any(t.startswith("超期") for t in expected) and any(t.startswith("剩") for t in expected)
    conn.close()


def _awkward_text(app, data):  # noqa: F811
    """Text that the SQL's quick checks must send to Python, and text that wraps."""
    conn = connect(app.config["DATABASE"])
    with write_tx(conn):
        conn.execute(
            "UPDATE problems SET description = ?, measures = ?, responsible_unit = ?,"
            " responsible_person = ? WHERE id = ?",
            (
                "\u3000全角空格开头，" + "很长的描述" * 12 + "\n第二行\n第三行 ",
                'a & b < c > d "q" _x0041_ \x01',
                " 前后有空格 ",
                "张三\ufffe",
                data["p2"],
            ),
        )
        conn.execute(
            "UPDATE households SET address = ? WHERE id = ?",
            ("杏园东路175号杏园小区3号楼2单元201室" + "附近的一个很长的地址" * 3, data["h2"]),
        )
    conn.close()


def _styles(ws):
    return [
        (c.number_format, c.border.left.style, bool(c.alignment.wrap_text))
        for row in ws.iter_rows(min_row=3)
        for c in row
    ]


@pytest.mark.parametrize("url", [PL, RL])
@pytest.mark.parametrize("unmask", ["false", "true"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_sql_rows_equal_the_generic_writer(
    app,
    client,
    auth,
    data,  # noqa: F811
    url,
    unmask,
    lang,
    tmp_path,
):
    """Values, styles and row heights (from the lines of wrapped text) of the SQL-written
    rows equal the generic writer's, with text that needs escaping, xml:space, newlines."""
    from survey_api.exports.layouts import LAYOUTS
    from survey_api.exports.xlsx_writer import write_xlsx

    _awkward_text(app, data)
    kind = url.rsplit("/", 1)[1]
    resp = export(client, auth, url, "xlsx", unmask=unmask, lang=lang)
    fast = read_xlsx(resp)
    path = tmp_path / "generic.xlsx"
    rows = _reference_rows(app, client, auth, url, unmask)
    write_xlsx(str(path), LAYOUTS[kind][0], rows, lang, "title", fast=False)
    generic = openpyxl.load_workbook(path).active
    values = list(fast.iter_rows(min_row=3, values_only=True))
    assert values == list(generic.iter_rows(min_row=3, values_only=True))
    assert _styles(fast) == _styles(generic)
    last = fast.max_row
    heights = [fast.row_dimensions[r].height for r in range(3, last + 1)]
    # (XlsxWriter's set_row rounds a height to whole pixels, 0.75 pt; the row XML is exact)
    expected = [generic.row_dimensions[r].height for r in range(3, last + 1)]
    assert heights == pytest.approx(expected, abs=0.75)
    assert max(h or 0 for h in heights) > 50  # the long description wraps over lines
    texts = {v for row in values for v in row if isinstance(v, str)}
    if kind == "problem-list":
        assert any(t.startswith("\u3000全角空格开头") and t.endswith("第三行 ") for t in texts)
    assert any(t.startswith('a & b < c > d "q" _x') for t in texts)  # (as openpyxl reads it)
    assert " 前后有空格 " in texts and any(t.startswith("张三") for t in texts)
    with zipfile.ZipFile(io.BytesIO(resp.get_data())) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
        assert sheet.compress_type == zipfile.ZIP_DEFLATED
        xml = archive.read(sheet).decode()
    assert "\x01" not in xml.replace("_x0001_", "")  # every row mark became its number
    assert '<c r="B3" s=' in xml
    assert '<t xml:space="preserve"> 前后有空格 </t>' in xml  # (openpyxl keeps it either way)
    if kind == "problem-list":
        assert '<t xml:space="preserve">\u3000全角空格开头' in xml


def test_masker_masks_tuples_as_mask_masks_records():
    """The exports mask each household's (address, head_name, phone) with masking.masker:
    the same rules as mask(), one home."""
    from survey_api.services.masking import mask, masker

    keys = ("address", "head_name", "phone", "notes")
    masked = masker(keys)
    for values in [
        ("杏园东路175号杏园小区3号楼2单元201室", "欧阳修", "+86 138-0013-8000", "备注"),
        ("3-2-201", "张", "13800138000", None),
        ("", None, "123", ""),
        (None, "李四", None, "x"),
    ]:
        record = dict(zip(keys, values, strict=True))
        assert masked(values) == tuple(mask(record)[k] for k in keys)
