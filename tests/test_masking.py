"""The address mask of Appendix B, and that every masked output goes through it.

Unit tests over the real address forms (号楼, 栋, 幢, 单元, 层, 室, 户, 3-2-201), then one
household read through every output that masks: record list, single read, create and patch
answers, pull by a secretary, the problem list and the visit ledger as JSON, CSV and XLSX.
"""

import csv
import io
import uuid

import openpyxl
import pytest
from conftest import assert_problem

from survey_api.db import connect
from survey_api.services.masking import mask, mask_address

FORMS = [
    ("杏园东路175号杏园小区3号楼2单元201室", "杏园东路175号杏园小区*号楼*单元*室"),
    ("华光路12号华光小区5栋3单元602室", "华光路12号华光小区*栋*单元*室"),
    ("世纪路9号世纪花园2幢1单元301室", "世纪路9号世纪花园*幢*单元*室"),
    ("公园路3号7号楼6层602户", "公园路3号*号楼*层*户"),
    ("杏园路1号201户", "杏园路1号*户"),
    ("杏园路1号杏园小区3-2-201", "杏园路1号杏园小区*-*-*"),
    ("杏园路1号杏园小区3-2-201室", "杏园路1号杏园小区*-*-*室"),
    ("杏园路1号杏园小区12-301", "杏园路1号杏园小区*-*"),
    ("杏园小区3号楼2单元201", "杏园小区*号楼*单元*"),  # bare room after the unit
    ("万科城市花园十二栋二单元", "万科城市花园*栋*单元"),  # Chinese numerals
    ("光明街１２号３号楼", "光明街１２号*号楼"),  # full-width digits
    ("幸福里小区 3 号楼 2 单元 201 室", "幸福里小区 * 号楼 * 单元 * 室"),
    ("滨河路8号B栋1201室", "滨河路8号*栋*室"),
    ("SOHO现代城3号楼12层1203", "SOHO现代城*号楼*层*"),
    # kept: road, street number and compound
    ("杏园东路175号", "杏园东路175号"),
    ("幸福路175-1号", "幸福路175-1号"),
    ("三座门小区", "三座门小区"),
    ("杏园路1号", "杏园路1号"),
    ("", ""),
    (None, None),
]


@pytest.mark.parametrize("address, masked", FORMS)
def test_address_forms(address, masked):
    assert mask_address(address) == masked


def test_mask_covers_every_personal_field_and_nothing_else():
    record = {
        "id": "x",
        "grid_code": "g",
        "address": "杏园东路175号杏园小区3号楼2单元201室",
        "building": "3",
        "unit_no": "2",
        "room": "201",
        "head_name": "欧阳修文",
        "phone": "138-1234-5678",
        "members": 3,
        "notes": "3号楼",
    }
    masked = mask(record)
    assert masked == {
        **record,
        "address": "杏园东路175号杏园小区*号楼*单元*室",
        "building": "*",
        "unit_no": "*",
        "room": "*",
        "head_name": "欧***",
        "phone": "138****5678",
    }
    assert record["room"] == "201"  # a copy: the caller's record is untouched


# --- every output ------------------------------------------------------------------------

ADDRESS = "杏园东路175号杏园小区3号楼2单元201室"
MASKED = "杏园东路175号杏园小区*号楼*单元*室"
GRID = "370303001001-01"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def household(client, auth):
    """One household with a visit and a problem in November 2026, made by its grid worker."""
    worker = auth.headers("worker")
    hid = str(uuid.uuid4())
    resp = client.post(
        "/api/v1/households",
        headers=worker,
        json={
            "id": hid,
            "grid_code": GRID,
            "address": ADDRESS,
            "building": "3",
            "unit_no": "2",
            "room": "201",
            "head_name": "张三丰",
            "phone": "13812345678",
            "members": 2,
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["address"] == ADDRESS  # its grid worker sees it
    resp = client.post(
        "/api/v1/visits",
        headers=worker,
        json={"household_id": hid, "visited_at": "2026-11-05T09:00:00+08:00", "outcome": "met"},
    )
    assert resp.status_code == 201, resp.get_json()
    resp = client.post(
        "/api/v1/problems",
        headers=worker,
        json={
            "grid_code": GRID,
            "household_id": hid,
            "category": "other.other",
            "description": "楼道堆物",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    # the problem counts as reported in November (the test runs at another date)
    conn = connect(client.application.config["DATABASE"])
    conn.execute("UPDATE problems SET reported_at = '2026-11-06T01:00:00.000000+00:00'")
    conn.close()
    return hid


def _assert_masked(record):
    assert record["address"] == MASKED, record
    for key in ("building", "unit_no", "room"):
        if key in record:
            assert record[key] == "*", record
    assert record["head_name"] == "张**" and record["phone"] == "138****5678", record


def _assert_clear(record):
    assert record["address"] == ADDRESS and record["head_name"] == "张三丰", record


def test_record_reads_and_answers(client, auth, household):
    h = auth.headers("secretary")
    _assert_masked(client.get(f"/api/v1/households/{household}", headers=h).get_json())
    [item] = client.get("/api/v1/households", headers=h).get_json()["items"]
    _assert_masked(item)
    _assert_masked(
        client.get("/api/v1/households", query_string={"q": "杏园"}, headers=h).get_json()["items"][
            0
        ]
    )
    # the answers of a secretary's own writes are masked like its reads
    resp = client.patch(
        f"/api/v1/households/{household}", json={"members": 3}, headers={**h, "If-Match": "1"}
    )
    assert resp.status_code == 200
    _assert_masked(resp.get_json())
    resp = client.post(
        "/api/v1/households",
        headers=h,
        json={"grid_code": GRID, "address": "杏园路2号5栋1单元101室", "head_name": "李四"},
    )
    assert resp.get_json()["address"] == "杏园路2号*栋*单元*室"
    # unmask=true and the grid worker of the grid see it
    _assert_clear(client.get(f"/api/v1/households/{household}?unmask=true", headers=h).get_json())
    _assert_clear(
        client.get(f"/api/v1/households/{household}", headers=auth.headers("worker")).get_json()
    )


def test_pull(client, auth, household):
    body = client.get("/api/v1/sync/pull", headers=auth.headers("secretary")).get_json()
    [record] = [r for r in body["changes"]["households"]["upserted"] if r["id"] == household]
    _assert_masked(record)
    body = client.get("/api/v1/sync/pull", headers=auth.headers("worker")).get_json()
    [record] = [r for r in body["changes"]["households"]["upserted"] if r["id"] == household]
    _assert_clear(record)


def _csv_rows(resp):
    text = resp.get_data()[3:].decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _xlsx_rows(resp):
    sheet = openpyxl.load_workbook(io.BytesIO(resp.get_data()), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [dict(zip(rows[1], r, strict=False)) for r in rows[2:]]


LIST_CASES = [
    # (url, user, the address column in CSV/XLSX)
    ("/api/v1/communities/370303001001/problem-list", "secretary", "地址"),
    (f"/api/v1/grids/{GRID}/visit-ledger", "secretary", "地址"),
    (f"/api/v1/grids/{GRID}/visit-ledger", "worker", "地址"),  # lists mask for grid workers too
]


@pytest.mark.parametrize("url, user, column", LIST_CASES)
def test_lists_and_exports(client, auth, household, url, user, column):
    h = auth.headers(user)
    body = client.get(url, query_string=PERIOD, headers=h).get_json()
    [item] = body["items"]
    _assert_masked(item.get("household", item))
    for fmt, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        resp = client.get(url, query_string={**PERIOD, "format": fmt}, headers=h)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        rows = read(resp)
        assert rows and {r[column] for r in rows} == {MASKED}, (fmt, rows)
        assert "201室" not in resp.get_data().decode("utf-8", "replace")
        if "户主姓名" in rows[0]:
            assert {r["户主姓名"] for r in rows} == {"张**"}


def test_unmasked_exports_show_the_address(client, auth, household):
    h = auth.headers("secretary")
    url = "/api/v1/communities/370303001001/problem-list"
    for fmt, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        resp = client.get(url, query_string={**PERIOD, "format": fmt, "unmask": "true"}, headers=h)
        assert {r["地址"] for r in read(resp)} == {ADDRESS}
    assert (
        client.get(url, query_string={**PERIOD, "unmask": "1"}, headers=h).get_json()["items"][0][
            "address"
        ]
        == ADDRESS
    )


def test_masked_outputs_never_carry_the_room(client, auth, household):
    """A sweep: no masked JSON answer about the household holds its room number."""
    h = auth.headers("secretary")
    for url in (
        "/api/v1/households",
        f"/api/v1/households/{household}",
        "/api/v1/sync/pull",
        "/api/v1/communities/370303001001/problem-list",
        f"/api/v1/grids/{GRID}/visit-ledger",
    ):
        resp = client.get(
            url, query_string=PERIOD if "list" in url or "ledger" in url else {}, headers=h
        )
        assert resp.status_code == 200, (url, resp.get_json())
        text = resp.get_data(as_text=True)
        assert "201室" not in text and "3号楼" not in text and "张三丰" not in text, url


def test_unmask_by_grid_worker_is_still_refused(client, auth, household):
    assert_problem(
        client.get(
            f"/api/v1/grids/{GRID}/visit-ledger?unmask=true", headers=auth.headers("worker")
        ),
        403,
        "UNMASK_FORBIDDEN",
    )


def test_console_problem_page(app, client, household):
    """The office console shows the household of a problem through the same mask."""
    from console_helpers import console_login, text

    conn = connect(app.config["DATABASE"])
    problem_id = conn.execute("SELECT id FROM problems").fetchone()[0]
    conn.close()
    assert console_login(client, "secretary").status_code in (302, 303)
    page = text(client.get(f"/console/problems/{problem_id}"))
    assert MASKED in page and ADDRESS not in page and "张三丰" not in page


def test_exports_follow_an_address_change(client, auth, household):
    """The exports read the mask stored with each write: a changed address is masked anew."""
    resp = client.patch(
        f"/api/v1/households/{household}",
        json={"address": "杏园路9号5栋1单元101室"},
        headers=auth.headers("worker", **{"If-Match": "1"}),
    )
    assert resp.status_code == 200, resp.get_json()
    url = "/api/v1/communities/370303001001/problem-list"
    for fmt, read in (("csv", _csv_rows), ("xlsx", _xlsx_rows)):
        resp = client.get(
            url, query_string={**PERIOD, "format": fmt}, headers=auth.headers("secretary")
        )
        assert {r["地址"] for r in read(resp)} == {"杏园路9号*栋*单元*室"}
