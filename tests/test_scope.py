"""scope.py: the one home of the list-access and unmask rules (both doors call it)."""

import pytest

from survey_api.db import connect
from survey_api.errors import ApiError
from survey_api.scope import Scope
from survey_api.storage import users as user_store

COMMUNITY, GRID, OTHER_COMMUNITY = "370303001001", "370303001001-01", "370303002001"


@pytest.fixture
def scopes(app):
    conn = connect(app.config["DATABASE"])
    yield lambda name: Scope(conn, user_store.get(conn, app.config["USER_IDS"][name]))
    conn.close()


def code_of(call):
    with pytest.raises(ApiError) as e:
        call()
    return e.value.status, e.value.code


def test_unit_for_list(scopes):
    secretary = scopes("secretary")
    assert secretary.unit_for_list(GRID)["code"] == GRID
    assert code_of(lambda: secretary.unit_for_list("nope")) == (404, "NOT_FOUND")
    assert code_of(lambda: secretary.unit_for_list(GRID, level="community")) == (404, "NOT_FOUND")
    assert code_of(lambda: secretary.unit_for_list(OTHER_COMMUNITY)) == (403, "OUT_OF_SCOPE")
    assert code_of(lambda: secretary.unit_for_list(OTHER_COMMUNITY, unmask=True)) == (
        403,
        "UNMASK_FORBIDDEN",
    )
    worker = scopes("worker")
    assert worker.unit_for_list(GRID)["code"] == GRID
    assert code_of(lambda: worker.unit_for_list(GRID, unmask=True)) == (403, "UNMASK_FORBIDDEN")


def test_unit_for_report_checks_unmask_role_kind_scope_in_that_order(scopes):
    worker = scopes("worker")
    assert code_of(lambda: worker.unit_for_report("problem-list", "nope", unmask=True)) == (
        403,
        "UNMASK_FORBIDDEN",
    )
    assert code_of(lambda: worker.unit_for_report("problem-list", COMMUNITY)) == (403, "FORBIDDEN")
    assert worker.unit_for_report("visit-ledger", GRID, level="grid")["code"] == GRID
    secretary = scopes("secretary")
    assert code_of(lambda: secretary.unit_for_report("problem-list", GRID, level="community")) == (
        404,
        "NOT_FOUND",
    )
    assert code_of(
        lambda: secretary.unit_for_report("problem-list", OTHER_COMMUNITY, level="community")
    ) == (403, "OUT_OF_SCOPE")
    assert (
        secretary.unit_for_report("problem-list", COMMUNITY, level="community", unmask=True)["code"]
        == COMMUNITY
    )


def test_grid_filter_under_a_unit(scopes, app):
    conn = connect(app.config["DATABASE"])
    grids = [r[0] for r in conn.execute("SELECT code FROM units WHERE level = 'grid'")]

    def kept(scope, under=None):
        sql, params = scope.grid_filter("code", under=under)
        return sorted(
            g
            for g in grids
            if conn.execute(
                f"SELECT 1 FROM units WHERE code = ? AND {sql}", [g, *params]
            ).fetchone()
        )

    admin, street = scopes("admin"), scopes("street")
    assert kept(admin) == sorted(grids)
    assert kept(street) == ["370303001001-01", "370303001001-02", "370303001002-01"]
    community = street.unit_for_list(COMMUNITY)
    assert kept(street, community) == ["370303001001-01", "370303001001-02"]
    assert kept(admin, community) == ["370303001001-01", "370303001001-02"]
    conn.close()
