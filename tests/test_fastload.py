"""schemas/fastload.FastLoader == schema.load: the same accepted values, the same normalisation,
the same errors, over generated valid and invalid data for every schema a push loads.

The data are mutations of well-formed items (the bench's push workload and hand-written
updates and actions): fields kept, dropped, or replaced by values from a pool of wrong types,
edge lengths, out-of-range numbers, control characters, bad UUIDs and datetimes, nested junk,
plus unknown keys. Whenever the fast path answers at all, its answer must be marshmallow's,
type for type; when it does not, load() must be marshmallow's answer, error for error.
"""

import random
import uuid
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from schemas.fastload import FastLoader, loader
from schemas.households import HouseholdCreateSchema, HouseholdPatchSchema
from schemas.problems import ProblemCreateSchema, ProblemPatchSchema
from schemas.sync import PushItemSchema
from schemas.visits import LocationSchema, VisitCreateSchema
from survey_api.bench.measure import make_batches, make_record_batches

GRID = "370303001001-01"
UUID = "3f0a7c2e-5b1d-4c8e-9a6f-0123456789ab"
SHA = "a" * 64
LOCATION = {"lat": 36.81, "lng": 118.05, "accuracy_m": 8.0}

# Well-formed data per schema: the bench's push items and hand-written patches and params.
_RNG = random.Random(5)
_RECORDS = [i for b in make_record_batches(_RNG, GRID, 40) for i in b["items"]]
_VISITS = [i for b in make_batches(_RNG, GRID, [UUID], 1) for i in b["items"][:40]]
_ITEMS = _RECORDS + _VISITS
_UPDATES = [
    {"op_id": str(uuid.uuid4()), "entity": "household", "op": "update", "id": UUID,
     "base_version": 3, "data": {"phone": "13800000000"}, "at_client": "2026-11-30T08:00:00+08:00"},
    {"op_id": str(uuid.uuid4()), "entity": "problem", "op": "delete", "id": UUID.upper(),
     "base_version": 1, "at_client": None},
    {"op_id": str(uuid.uuid4()).upper(), "entity": "problem_action", "op": "action", "id": UUID,
     "base_version": 2, "data": {"action": "accept"}},
]  # fmt: skip


def _data(entity):
    return [i["data"] for i in _ITEMS if i["entity"] == entity]


SCHEMAS = {
    "PushItemSchema": (PushItemSchema(), _ITEMS + _UPDATES),
    "HouseholdCreateSchema": (HouseholdCreateSchema(), _data("household")),
    "HouseholdPatchSchema": (
        HouseholdPatchSchema(),
        [{"phone": "138 0000 0000", "members": 0, "tags": ["elderly", "rental"], "notes": None},
         {"grid_code": GRID, "address": "路1号", "building": None, "room": "101"}],
    ),
    "VisitCreateSchema": (VisitCreateSchema(), _data("visit")),
    "ProblemCreateSchema": (ProblemCreateSchema(), _data("problem")),
    "ProblemPatchSchema": (
        ProblemPatchSchema(),
        [{"category": "safety.fire", "description": "楼道堆物", "urgency": "urgent",
          "source": "hotline", "location": LOCATION, "photos_before": [SHA]},
         {"location": None, "photos_before": []}],
    ),
    "LocationSchema": (LocationSchema(), [LOCATION, {"lat": -90, "lng": 180}]),
}  # fmt: skip

# Values a field may be replaced with: every JSON type, the edges of the schemas' limits,
# text marshmallow refuses, and the schemas' own enum values (read from their validators).
POOL = [
    None, True, False, 0, 1, -1, 7, 50, 51, 2**31, 2**31 + 1, 10**400, 0.0, -0.0, 8.0, 36.8,
    90, 90.0001, -180, 180.5, 1e308, float("nan"), float("inf"),
    "", " ", "x", "路1号", "王建国", "😀", "a\u0000b", "a\tb\nc\r", "a\x7fb", "a\x85b", "\ud800",
    "y" * 50, "y" * 51, "y" * 200, "y" * 201, "y" * 2000, "y" * 2001,
    UUID, UUID.upper(), UUID + "\n", UUID[:-1], "{" + UUID + "}", str(uuid.UUID(UUID).int),
    GRID, "-bad", "370303", "a" * 40, "a" * 41, "safety", "safety.fire", "Safety.Fire", "a.b.c",
    SHA, SHA.upper(), SHA[:-1], "13800000000", "+86 138-0000-0000", "123456", "1" * 21,
    "2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00Z", "2026-11-30T08:00:00",
    "2026-11-30", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "not a date",
    "2026-11-30T08:00:00.123456+08:00", "2026-02-30T08:00:00+08:00",
    [], [None], ["elderly"], ["elderly", "elderly"], ["nope"], [SHA] * 20, [SHA] * 21, [1],
    [UUID], list(range(10)), {}, {"a": 1}, LOCATION, {"lat": 91, "lng": 0}, {"lat": "1", "lng": 2},
    {"lat": 1}, {"lat": 1, "lng": 2, "x": 3}, {"lat": True, "lng": 2}, {"action": "accept"},
]  # fmt: skip


def _choices(schema):
    """The OneOf choices of a schema's fields (and their list items): valid enum values."""
    found = []
    for field in schema.load_fields.values():
        for f in (field, getattr(field, "inner", None)):
            for v in getattr(f, "validators", ()):
                if isinstance(v, validate.OneOf):
                    found.extend(v.choices)
    return found


def _typed(value):
    """value with every leaf tagged by its type: 8 and 8.0, True and 1 are different."""
    if isinstance(value, dict):
        return ("dict", {k: _typed(v) for k, v in value.items()}, list(value))
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _marshmallow(schema, data):
    try:
        return "ok", schema.load(data)
    except ValidationError as e:
        return "error", e.messages


def _check(schema, data):
    """The property for one input; returns True when the fast path answered."""
    fast_loader = loader(schema)
    expected = _marshmallow(schema, data)
    fast = fast_loader.fast(data)
    if fast is not None:
        assert expected[0] == "ok", (data, expected)
        assert _typed(fast) == _typed(expected[1]), data
    try:
        got = ("ok", fast_loader.load(data))
    except ValidationError as e:
        got = ("error", e.messages)
    assert got[0] == expected[0], data
    assert _typed(got[1]) == _typed(expected[1]), data
    return fast is not None


def _mutations(name):
    schema, bases = SCHEMAS[name]
    keys = _keys(name)
    datas = [i.get("data") for i in _ITEMS + _UPDATES]
    value = st.sampled_from([_DROP, *POOL, *_choices(schema), *datas])
    return st.builds(
        _mutate,
        st.sampled_from(bases),
        st.dictionaries(st.sampled_from(keys), value, max_size=4),
        st.one_of(st.none(), st.sampled_from(["unknown", "ID", "op_id "])),
    )


_DROP = object()


def _keys(name):
    schema, bases = SCHEMAS[name]
    names = {f.data_key or n for n, f in schema.load_fields.items()}
    return sorted(names | {k for b in bases for k in b})


def _mutate(base, changes, extra_key):
    data = dict(base)
    for key, value in changes.items():
        if value is _DROP:
            data.pop(key, None)
        else:
            data[key] = value
    if extra_key:
        data[extra_key] = 1
    return data


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_a_push_loads_is_compiled(name):
    schema, _ = SCHEMAS[name]
    assert FastLoader(schema)._fast is not None


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_well_formed_data_takes_the_fast_path_with_marshmallows_result(name):
    schema, bases = SCHEMAS[name]
    answered = [_check(schema, data) for data in bases]
    assert all(answered), f"{answered.count(False)} of {len(answered)} fell back"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_field_replaced_by_every_pool_value_or_dropped(name):
    """Exhaustive single-field changes of the first well-formed inputs (hypothesis below
    combines several)."""
    schema, bases = SCHEMAS[name]
    values = [_DROP, *POOL, *_choices(schema), *(i.get("data") for i in _ITEMS[:3] + _UPDATES)]
    answered = 0
    for base in bases[:3]:
        for key in _keys(name):
            for value in values:
                answered += _check(schema, _mutate(base, {key: value}, None))
    assert answered > 0


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_mutated_data_loads_as_marshmallow_loads_it(name, data):
    schema, _ = SCHEMAS[name]
    _check(schema, data.draw(_mutations(name)))


def test_invalid_and_non_object_data_fall_back_to_marshmallows_errors():
    schema = VisitCreateSchema()
    fast = FastLoader(schema)
    for data in ([], "x", None, 1, {"household_id": UUID}, {**_data("visit")[0], "extra": 1}):
        assert fast.fast(data) is None
        with pytest.raises(ValidationError) as got:
            fast.load(data)
        assert got.value.messages == _marshmallow(schema, data)[1]


def test_control_character_hook_and_schema_validators_run_on_the_fast_path():
    item = dict(_RECORDS[0], op="update")  # a household update needs base_version
    assert _marshmallow(PushItemSchema(), item)[0] == "error"
    assert loader(PushItemSchema()).fast(item) is None
    data = dict(_data("household")[0], notes="a\x01b")
    assert loader(HouseholdCreateSchema()).fast(data) is None


def test_a_schema_with_what_the_fast_path_does_not_handle_always_uses_marshmallow():
    class WithFieldValidator(Schema):
        a = fields.String()

        @validates("a")
        def _a(self, value, **kwargs):
            if value == "no":
                raise ValidationError("no")

    class WithPostLoad(Schema):
        a = fields.String()

        @post_load
        def _up(self, data, **kwargs):
            return {k: v.upper() for k, v in data.items()}

    for schema in (WithFieldValidator(), WithPostLoad(), VisitCreateSchema(many=True)):
        assert FastLoader(schema)._fast is None
    assert FastLoader(WithPostLoad()).load({"a": "x"}) == {"a": "X"}
    with pytest.raises(ValidationError):
        FastLoader(WithFieldValidator()).load({"a": "no"})


def test_load_defaults_and_allow_none_come_from_the_schema():
    loaded = loader(ProblemCreateSchema()).fast(_data("problem")[0] | {"location": None})
    assert loaded["source"] == "visit" and loaded["urgency"] == "normal"
    assert loaded["location"] is None
    assert isinstance(loader(VisitCreateSchema()).fast(_data("visit")[0])["visited_at"], datetime)
    assert loader(VisitCreateSchema()).fast(_data("visit")[0])["visited_at"].tzinfo is not None
