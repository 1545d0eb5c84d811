"""Helpers for the record and sync tests: ids, payloads, pushes."""

import uuid

GRID = "370303001001-01"
GRID2 = "370303001001-02"
OTHER_GRID = "370303001002-01"


def uid():
    return str(uuid.uuid4())


def household_data(grid=GRID, **extra):
    data = {
        "grid_code": grid,
        "address": "杏园路1号",
        "building": "3",
        "unit_no": "2",
        "room": "301",
        "head_name": "张三",
        "phone": "13812341234",
        "members": 3,
        "tags": ["elderly"],
        "notes": "test",
    }
    data.update(extra)
    return data


def visit_data(household_id, **extra):
    data = {
        "household_id": household_id,
        "visited_at": "2026-11-27T09:00:00+08:00",
        "outcome": "met",
        "notes": "民情日记",
    }
    data.update(extra)
    return data


def problem_data(grid=GRID, **extra):
    data = {"grid_code": grid, "category": "safety.flying_wires", "description": "飞线充电"}
    data.update(extra)
    return data


def item(entity, op, record_id, data=None, base_version=None, op_id=None, **extra):
    it = {"op_id": op_id or uid(), "entity": entity, "op": op, "id": record_id}
    if data is not None:
        it["data"] = data
    if base_version is not None:
        it["base_version"] = base_version
    it.update(extra)
    return it


def push(client, headers, items, key=None, **envelope):
    body = {"device_id": "phone-1", "items": items, **envelope}
    return client.post(
        "/api/v1/sync/push", json=body, headers={**headers, "Idempotency-Key": key or uid()}
    )
