"""Household roster import: CSV and XLSX, Chinese headers, per-row report, idempotence."""

import io
import json

import openpyxl
from conftest import assert_problem

from survey_api.cli import main
from survey_api.db import connect

URL = "/api/v1/households/import"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

GOOD = (
    "grid_code,address,building,unit_no,room,head_name,phone,members,tags,notes\r\n"
    "370303001001-01,杏园路1号,3,2,301,张三,13812341234,2,elderly_alone|veteran,独居\r\n"
    "370303001001-01,杏园路1号,3,2,302,李四,139-0000-1111,4,,\r\n"
    "370303001001-02,杏园路2号,,,,王五,,1,low_income、disabled,\r\n"
)

BAD = (
    "grid_code,address,building,unit_no,room,head_name,phone,members,tags,notes\r\n"
    "370303001001-01,杏园路1号,3,2,301,张三,13812341234,2,elderly_alone,\r\n"  # good
    "370303001001-01,,3,2,305,缺地址,,1,,\r\n"  # no address
    "370303001001-01,杏园路1号,3,2,306,人太多,,51,,\r\n"  # members > 50
    "370303001001-01,杏园路1号,3,2,307,坏电话,abc,1,,\r\n"  # phone
    "370303001001-01,杏园路1号,3,2,308,坏标签,,1,rich,\r\n"  # unknown tag
    "370303001002-01,华光路5号,1,1,101,别社区,,1,,\r\n"  # out of scope
    "370303009999-01,无网格,1,1,101,无网格,,1,,\r\n"  # no such grid
    "370303001001-01,杏园路1号,3,2,309,王二,,3,,\r\n"  # good
    "370303001001-01,杏园路1号,3,2,309,王二重复,,3,,\r\n"  # same place again
)

CHINESE = (
    "网格编码,地址,楼栋,单元,房号,户主姓名,联系电话,人数,标签,备注\r\n"
    "370303001001-01,杏园路1号,3,2,301,张三,13812341234,2,elderly_alone、veteran,独居\r\n"
)


def post(client, auth, body, user="secretary", content_type=CSV):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(URL, data=data, headers=auth.headers(user, **{"Content-Type": content_type}))


def households(app):
    conn = connect(app.config["DATABASE"])
    rows = [dict(r) for r in conn.execute("SELECT * FROM households ORDER BY room, address")]
    conn.close()
    return rows


def test_good_file_creates_every_row(client, auth, app):
    resp = post(client, auth, GOOD)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["summary"] == {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0}
    assert [r["row"] for r in body["rows"]] == [2, 3, 4]
    rows = {r["room"]: r for r in households(app)}
    assert rows["301"]["head_name"] == "张三" and rows["301"]["members"] == 2
    assert json.loads(rows["301"]["tags"]) == ["elderly_alone", "veteran"]
    assert rows["302"]["phone"] == "139-0000-1111"
    assert json.loads(rows[None]["tags"]) == ["low_income", "disabled"]
    assert rows[None]["building"] is None
    # Imports go through the households storage: version 1 and a change-log row each.
    conn = connect(app.config["DATABASE"])
    changes = conn.execute("SELECT count(*) FROM changes WHERE entity = 'household'").fetchone()
    assert changes[0] == 3
    conn.close()
    assert all(r["version"] == 1 for r in rows.values())


def test_same_file_twice_changes_nothing(client, auth, app):
    post(client, auth, GOOD)
    before = households(app)
    resp = post(client, auth, GOOD)
    assert resp.get_json()["summary"] == {"created": 0, "updated": 0, "unchanged": 3, "rejected": 0}
    after = households(app)
    assert [(r["id"], r["version"], r["updated_at"]) for r in before] == [
        (r["id"], r["version"], r["updated_at"]) for r in after
    ]


def test_changed_row_updates_only_that_household(client, auth, app):
    post(client, auth, GOOD)
    changed = GOOD.replace("李四,139-0000-1111,4", "李四,139-0000-1111,5")
    body = post(client, auth, changed).get_json()
    assert body["summary"] == {"created": 0, "updated": 1, "unchanged": 2, "rejected": 0}
    updated = [r for r in body["rows"] if r["status"] == "updated"][0]
    assert updated["row"] == 3 and updated["fields"] == ["members"]
    rows = {r["room"]: r for r in households(app)}
    assert rows["302"]["members"] == 5 and rows["302"]["version"] == 2
    assert rows["301"]["version"] == 1


def test_bad_rows_are_reported_and_good_rows_go_in(client, auth, app):
    resp = post(client, auth, BAD)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 7}
    by_row = {r["row"]: r for r in body["rows"]}
    assert by_row[2]["status"] == "created" and by_row[9]["status"] == "created"
    assert "address" in by_row[3]["errors"]
    assert "members" in by_row[4]["errors"]
    assert "phone" in by_row[5]["errors"]
    assert "tags.0" in by_row[6]["errors"]
    assert by_row[7]["errors"] == {"grid_code": ["This grid is outside your scope."]}
    assert by_row[8]["errors"] == {"grid_code": ["No such grid."]}
    assert by_row[10]["errors"] == {"_row": ["Same household as row 9."]}
    assert sorted(r["room"] for r in households(app)) == ["301", "309"]


def test_chinese_headers_match_the_english_import(client, auth, app):
    post(client, auth, GOOD)
    body = post(client, auth, CHINESE).get_json()
    assert body["summary"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}


def test_tags_as_chinese_labels_read_as_their_codes(client, auth, app):
    """A lang=zh ledger export writes tags as labels (独居老人、退役军人): they import as the
    codes, so re-importing it changes nothing."""
    post(client, auth, GOOD)
    body = post(client, auth, CHINESE.replace("elderly_alone、veteran", "独居老人、退役军人"))
    assert body.get_json()["summary"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}


def test_gbk_csv_from_excel_is_read(client, auth, app):
    body = post(client, auth, CHINESE.encode("gb18030")).get_json()
    assert body["summary"]["created"] == 1
    assert households(app)[0]["head_name"] == "张三"


def _xlsx(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_input_with_numbers_in_cells(client, auth, app):
    data = _xlsx(
        [
            [
                "网格编码",
                "地址",
                "楼栋",
                "单元",
                "房号",
                "户主姓名",
                "联系电话",
                "人数",
                "标签",
                "备注",
            ],
            ["370303001001-01", "杏园路1号", 3, 2, 301, "张三", 13812341234, 2, "elderly", None],
            ["370303001001-01", None, 3, 2, 302, "缺地址", None, 1, None, None],
        ]
    )
    resp = post(client, auth, data, content_type=XLSX)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["summary"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    row = households(app)[0]
    assert (row["building"], row["room"], row["phone"], row["members"]) == (
        "3",
        "301",
        "13812341234",
        2,
    )
    # The same workbook again: unchanged.
    again = post(client, auth, data, content_type=XLSX).get_json()
    assert again["summary"]["unchanged"] == 1 and again["summary"]["created"] == 0


def test_match_by_id_updates_and_moves(client, auth, app):
    first = post(client, auth, GOOD).get_json()
    hid = first["rows"][0]["id"]
    moved = f"id,grid_code,address,room\r\n{hid},370303001001-02,杏园路1号,301\r\n"
    body = post(client, auth, moved).get_json()
    assert body["rows"][0]["status"] == "updated" and body["rows"][0]["id"] == hid
    row = [r for r in households(app) if r["id"] == hid][0]
    assert row["grid_code"] == "370303001001-02"


def test_audit_entry_written(client, auth, app):
    post(client, auth, GOOD)
    body = client.get(
        "/api/v1/audit?action=household.import", headers=auth.headers("admin")
    ).get_json()
    assert body["items"][0]["details"] == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }


def test_refusals(client, auth):
    assert_problem(post(client, auth, GOOD, user="worker"), 403, "FORBIDDEN")
    assert_problem(
        post(client, auth, GOOD, content_type="application/json"), 415, "UNSUPPORTED_MEDIA_TYPE"
    )
    assert_problem(post(client, auth, "name,age\r\nx,1\r\n"), 422, "VALIDATION_ERROR")
    assert_problem(
        post(client, auth, b"PK\x03\x04garbage", content_type=XLSX), 422, "VALIDATION_ERROR"
    )
    assert_problem(post(client, auth, b"\xff\xfe\x00bad"), 422, "VALIDATION_ERROR")


def test_cli_import(runner, app, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(BAD, encoding="utf-8")
    result = runner.invoke(main, ["import-households", str(path)])
    assert result.exit_code == 1
    assert "row 3: rejected: address" in result.output
    assert "3 created, 0 updated, 0 unchanged, 6 rejected" in result.output  # CLI: no scope
    good = tmp_path / "good.xlsx"
    good.write_bytes(_xlsx([line.split(",") for line in GOOD.strip().split("\r\n")]))
    result = runner.invoke(main, ["import-households", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 created, 1 updated, 0 unchanged, 0 rejected" in result.output
    result = runner.invoke(main, ["import-households", str(good)])
    assert "0 created, 0 updated, 3 unchanged, 0 rejected" in result.output


def test_multipart_upload_of_one_file(client, auth, app):
    resp = client.post(
        URL,
        data={"file": (io.BytesIO(GOOD.encode()), "杏园.csv")},
        headers=auth.headers("secretary"),
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["summary"]["created"] == 3
    xlsx = _xlsx([line.split(",") for line in GOOD.strip().split("\r\n")])
    resp = client.post(
        URL,
        data={"file": (io.BytesIO(xlsx), "杏园.xlsx")},
        headers=auth.headers("secretary"),
        content_type="multipart/form-data",
    )
    assert resp.get_json()["summary"]["unchanged"] == 3
    entries = client.get(
        "/api/v1/audit?action=household.import", headers=auth.headers("admin")
    ).get_json()["items"]
    assert [e["target"] for e in entries] == ["杏园.xlsx", "杏园.csv"]
    empty = client.post(
        URL, data={}, headers=auth.headers("secretary"), content_type="multipart/form-data"
    )
    assert_problem(empty, 400, "MALFORMED_BODY")
