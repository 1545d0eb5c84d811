"""Households over REST: create, read (masking), If-Match PATCH/DELETE, lists, scope."""

from conftest import assert_problem
from sync_helpers import GRID, OTHER_GRID, household_data, uid

BASE = "/api/v1/households"


def create(client, auth, user="worker", **extra):
    resp = client.post(BASE, json=household_data(**extra), headers=auth.headers(user))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_create_returns_201_location_etag(client, auth):
    hid = uid()
    resp = client.post(BASE, json=household_data(id=hid), headers=auth.headers("worker"))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["id"] == hid and body["version"] == 1 and body["deleted"] is False
    assert resp.headers["Location"] == f"{BASE}/{hid}"
    assert resp.headers["ETag"] == '"1"'
    assert body["head_name"] == "张三"  # grid worker in own grid: unmasked


def test_create_same_id_same_data_is_200_other_data_409(client, auth):
    hid = uid()
    h = auth.headers("worker")
    assert client.post(BASE, json=household_data(id=hid), headers=h).status_code == 201
    assert client.post(BASE, json=household_data(id=hid), headers=h).status_code == 200
    body = assert_problem(
        client.post(BASE, json=household_data(id=hid, address="x"), headers=h), 409, "ID_REUSED"
    )
    assert body["current"]["id"] == hid


def test_required_fields_tags_and_limits(client, auth):
    h = auth.headers("worker")
    body = assert_problem(
        client.post(BASE, json={"address": "x"}, headers=h), 422, "VALIDATION_ERROR"
    )
    assert "grid_code" in body["errors"]
    for bad in (
        {"tags": ["rich"]},
        {"members": 51},
        {"members": 2.5},
        {"phone": "abc"},
        {"address": "x" * 201},
        {"notes": "x" * 2001},
        {"version": 3},
        {"created_at": "2026-01-01T00:00:00Z"},
        {"id": "not-a-uuid"},
    ):
        assert_problem(
            client.post(BASE, json=household_data(**bad), headers=h), 422, "VALIDATION_ERROR"
        )
    assert (
        client.get(BASE + "?deleted=true", headers=auth.headers("admin")).get_json()["items"] == []
    )


def test_patterns_match_the_whole_value_a_trailing_newline_is_422(client, auth, app):
    """Regex checks cover the whole string ('$' alone lets "...\\n" through): 422, no 500."""
    h = auth.headers("worker")
    for bad in ({"id": uid() + "\n"}, {"phone": "13812341234\n"}, {"grid_code": GRID + "\n"}):
        assert_problem(
            client.post(BASE, json=household_data(**bad), headers=h), 422, "VALIDATION_ERROR"
        )
    resp = client.post(
        "/api/v1/sync/push",
        headers={**h, "Idempotency-Key": uid()},
        json={
            "items": [
                {
                    "op_id": uid() + "\n",
                    "entity": "household",
                    "op": "create",
                    "data": household_data(),
                }
            ]
        },
    )
    [result] = resp.get_json()["results"]  # the item is the unit of failure (Appendix B)
    assert (result["code"], list(result["errors"])) == ("VALIDATION_ERROR", ["op_id"])
    assert (
        client.get(BASE + "?deleted=true", headers=auth.headers("admin")).get_json()["items"] == []
    )


def test_create_outside_scope_is_403(client, auth):
    assert_problem(
        client.post(BASE, json=household_data(grid=OTHER_GRID), headers=auth.headers("worker")),
        403,
        "OUT_OF_SCOPE",
    )


def test_get_masked_for_secretary_unless_unmask(client, auth):
    hh = create(client, auth)
    body = client.get(f"{BASE}/{hh['id']}", headers=auth.headers("secretary")).get_json()
    assert body["head_name"] == "张*" and body["phone"] == "138****1234" and body["room"] == "*"
    resp = client.get(f"{BASE}/{hh['id']}?unmask=true", headers=auth.headers("secretary"))
    assert resp.get_json()["head_name"] == "张三"
    assert_problem(
        client.get(f"{BASE}/{hh['id']}?unmask=true", headers=auth.headers("worker")),
        403,
        "UNMASK_FORBIDDEN",
    )
    audit = client.get("/api/v1/audit?action=unmask", headers=auth.headers("admin")).get_json()
    assert len(audit["items"]) == 1


def test_get_out_of_scope_or_malformed_is_404(client, auth):
    hh = create(client, auth)
    assert_problem(
        client.get(f"{BASE}/{hh['id']}", headers=auth.headers("worker3")), 404, "NOT_FOUND"
    )
    assert_problem(client.get(f"{BASE}/../etc", headers=auth.headers("worker")), 404, "NOT_FOUND")
    assert_problem(client.get(f"{BASE}/{uid()}", headers=auth.headers("worker")), 404, "NOT_FOUND")


def test_patch_needs_if_match_and_rejects_stale(client, auth):
    hh = create(client, auth)
    url, h = f"{BASE}/{hh['id']}", auth.headers("worker")
    assert_problem(client.patch(url, json={"members": 4}, headers=h), 428, "PRECONDITION_REQUIRED")
    resp = client.patch(url, json={"members": 4}, headers={**h, "If-Match": '"1"'})
    assert resp.status_code == 200 and resp.get_json()["version"] == 2
    assert resp.headers["ETag"] == '"2"'
    body = assert_problem(
        client.patch(url, json={"notes": "n"}, headers={**h, "If-Match": "1"}), 409, "STALE_VERSION"
    )
    assert body["current"]["version"] == 2 and body["current"]["members"] == 4


def test_delete_then_gone(client, auth):
    hh = create(client, auth)
    url, h = f"{BASE}/{hh['id']}", auth.headers("worker")
    assert_problem(client.delete(url, headers=h), 428, "PRECONDITION_REQUIRED")
    assert_problem(client.delete(url, headers={**h, "If-Match": "2"}), 409, "STALE_VERSION")
    assert client.delete(url, headers={**h, "If-Match": "1"}).status_code == 204
    assert_problem(client.get(url, headers=h), 410, "GONE")
    assert_problem(client.delete(url, headers={**h, "If-Match": "2"}), 410, "GONE")
    assert client.get(BASE, headers=h).get_json()["items"] == []
    assert len(client.get(BASE + "?deleted=true", headers=h).get_json()["items"]) == 1


def test_list_masks_paginates_and_filters(client, auth):
    for i in range(5):
        create(client, auth, address=f"路{i}", tags=["veteran"] if i % 2 else [])
    h = auth.headers("worker")
    page1 = client.get(BASE + "?limit=3", headers=h).get_json()
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    assert page1["items"][0]["head_name"] == "张*"  # lists mask for every role
    page2 = client.get(BASE + f"?limit=3&cursor={page1['next_cursor']}", headers=h).get_json()
    assert len(page2["items"]) == 2 and page2["next_cursor"] is None
    assert len(client.get(BASE + "?tag=veteran", headers=h).get_json()["items"]) == 2
    assert len(client.get(BASE + "?q=路3", headers=h).get_json()["items"]) == 1
    assert len(client.get(BASE + f"?grid={GRID}", headers=h).get_json()["items"]) == 5
    assert_problem(client.get(BASE + f"?grid={OTHER_GRID}", headers=h), 403, "OUT_OF_SCOPE")
    assert_problem(client.get(BASE + "?limit=0", headers=h), 422, "VALIDATION_ERROR")
    assert client.get(BASE, headers=auth.headers("worker3")).get_json()["items"] == []
    assert len(client.get(BASE, headers=auth.headers("street")).get_json()["items"]) == 5


def test_patch_rules_scope_gone_and_server_fields(client, auth):
    hh = create(client, auth)
    url, h = f"{BASE}/{hh['id']}", auth.headers("worker")
    assert_problem(
        client.patch(url, json={"grid_code": OTHER_GRID}, headers={**h, "If-Match": "1"}),
        403,
        "OUT_OF_SCOPE",
    )
    assert_problem(
        client.patch(url, json={"version": 5}, headers={**h, "If-Match": "1"}),
        422,
        "VALIDATION_ERROR",
    )
    same = client.patch(url, json={"members": 3}, headers={**h, "If-Match": "1"})
    assert same.status_code == 200 and same.get_json()["version"] == 1  # nothing changed
    assert client.delete(url, headers={**h, "If-Match": "1"}).status_code == 204
    assert_problem(
        client.patch(url, json={"members": 1}, headers={**h, "If-Match": "2"}), 410, "GONE"
    )
    assert_problem(
        client.patch(f"{BASE}/{uid()}", json={"members": 1}, headers={**h, "If-Match": "1"}),
        404,
        "NOT_FOUND",
    )


def test_list_unmask_rules_and_audit(client, auth):
    create(client, auth)
    s = auth.headers("secretary")
    body = client.get(BASE + "?unmask=true", headers=s).get_json()
    assert body["items"][0]["head_name"] == "张三"
    assert_problem(
        client.get(BASE + "?unmask=true", headers=auth.headers("worker")), 403, "UNMASK_FORBIDDEN"
    )
    assert_problem(
        client.get(BASE + f"?unmask=1&grid={OTHER_GRID}", headers=s), 403, "UNMASK_FORBIDDEN"
    )
    audit = client.get("/api/v1/audit?action=unmask", headers=auth.headers("admin")).get_json()
    assert len(audit["items"]) == 1
