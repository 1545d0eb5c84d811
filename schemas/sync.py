"""Offline sync: the push envelope and the pull page."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .common import AwareDateTime, StrictSchema, Uuid
from .households import UnmaskQuery

MAX_ITEMS = 1000
ENTITIES = ("household", "visit", "problem", "problem_action")
OPS = ("create", "update", "delete", "action")
# Which ops each entity takes.
ENTITY_OPS = {
    "household": ("create", "update", "delete"),
    "visit": ("create",),
    "problem": ("create", "update", "delete"),
    "problem_action": ("action",),
}

# The codes a push result may carry (DESIGN §5, Appendices A and B).
RESULT_CODES = {
    "VALIDATION_ERROR": "rejected: the item's own fields or its data are wrong (see errors); "
    "an item without a valid op_id is rejected so, with op_id as sent "
    "(null when absent), and its result is not remembered",
    "NOT_FOUND": "rejected, retryable: a referenced record the caller cannot see or that is "
    "not stored yet",
    "PARENT_FAILED": "rejected, retryable: a record it depends on failed earlier in this push",
    "GONE": "rejected: the record (or the household it names) was deleted",
    "OUT_OF_SCOPE": "rejected: a grid outside the caller's scope",
    "ACTION_FORBIDDEN": "rejected: the caller's role may not do this action",
    "STALE_VERSION": "conflict: base_version is stale and the fields overlap; server holds the "
    "current record",
    "INVALID_TRANSITION": "conflict: the problem's current status forbids the action",
    "ID_REUSED": "conflict: the id belongs to a record created with other data",
}

PUSH_DESCRIPTION = (
    "Upload a batch of offline changes: at most 1,000 items and 5 MiB a push. "
    "Requires an `Idempotency-Key` header (8-128 visible ASCII characters): a replay with the "
    "same key and body returns the stored response; another body with the same key is 422 "
    "IDEMPOTENCY_KEY_REUSED; a push still running with that key is 409 IDEMPOTENCY_KEY_IN_FLIGHT. "
    "Items are applied in order, each atomically; one result per item. The item is the unit of "
    "failure: an item whose own fields are wrong (op_id, entity, op, id, base_version, data, "
    "at_client, an unknown key, not an object) is a `rejected` result with code "
    "VALIDATION_ERROR and `errors`, and the other items are applied. Only the envelope fails "
    "the whole push: a body that is not an object, no `items`, `items` not a list (422 "
    "VALIDATION_ERROR), more than 1,000 items (413 TOO_MANY_ITEMS), a bad `device_time` or "
    "`device_id`, an unknown envelope key (422). Result codes: "
    + "; ".join(f"{code} ({meaning})" for code, meaning in RESULT_CODES.items())
    + "."
)


class PushItemSchema(StrictSchema):
    op_id = Uuid(required=True)
    entity = fields.String(required=True, validate=validate.OneOf(ENTITIES))
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    id = Uuid()
    base_version = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=2**31)
    )
    data = fields.Dict(metadata={"description": "Required for create, update and action."})
    at_client = AwareDateTime(allow_none=True)

    @validates_schema
    def _op_fits_entity(self, item, **kwargs):
        entity, op = item.get("entity"), item.get("op")
        if entity and op and op not in ENTITY_OPS[entity]:
            raise ValidationError(f"A {entity} takes op {' or '.join(ENTITY_OPS[entity])}.", "op")
        if op and op != "create" and not item.get("id"):
            raise ValidationError(f"An {op} needs the record id.", "id")
        if op in ("update", "delete", "action") and item.get("base_version") is None:
            raise ValidationError(f"An {op} needs base_version.", "base_version")
        if op in ("create", "update", "action") and item.get("data") is None:
            raise ValidationError(f"A {op} needs data.", "data")


class _Items(fields.List):
    """The push items: documented as a list of PushItem, loaded as the raw list.

    The envelope only checks that items is a list of at most 1,000 entries; each item is
    checked on its own by the push (services/push_items.py), so a bad item is one rejected
    result instead of a failed push (Appendix B).
    """

    def __init__(self, **kwargs):
        super().__init__(fields.Nested(PushItemSchema), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class PushSchema(StrictSchema):
    device_id = fields.String(allow_none=True, validate=validate.Length(max=200))
    device_time = AwareDateTime(allow_none=True)
    items = _Items(required=True, validate=validate.Length(max=MAX_ITEMS))


class PushResultSchema(Schema):
    op_id = fields.Raw(
        allow_none=True,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "The item's op_id as sent (null when the item had none).",
        },
    )
    status = fields.String(metadata={"enum": ["applied", "duplicate", "conflict", "rejected"]})
    id = fields.String(
        allow_none=True,
        metadata={
            "description": "The record id (null for a delete's record id only when the item had "
            "none)."
        },
    )
    version = fields.Integer(
        allow_none=True,
        metadata={
            "description": "The record's version after the item; null for a delete of an id the "
            "server never held or cannot show the caller."
        },
    )
    code = fields.String(
        metadata={
            "enum": list(RESULT_CODES),
            "description": "Why the item was not applied, per item: "
            + "; ".join(f"{c}: {m}" for c, m in RESULT_CODES.items())
            + ".",
        }
    )
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Field errors: {field path: [messages]}."})
    retryable = fields.Boolean(
        metadata={"description": "False when the phone must not resend the item as it is."}
    )
    server = fields.Dict(allow_none=True)


class PushSummarySchema(Schema):
    applied = fields.Integer()
    duplicate = fields.Integer()
    conflict = fields.Integer()
    rejected = fields.Integer()


class PushResponseSchema(Schema):
    server_time = fields.String()
    clock_offset_s = fields.Float(allow_none=True)
    summary = fields.Nested(PushSummarySchema)
    results = fields.List(fields.Nested(PushResultSchema))


class PullQuery(UnmaskQuery):
    cursor = fields.String(load_default=None, validate=validate.Length(max=4000))
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


class _Upserted(Schema):
    upserted = fields.List(fields.Dict())
    deleted = fields.List(fields.String())


class _VisitChanges(Schema):
    upserted = fields.List(fields.Dict())


class _Changes(Schema):
    households = fields.Nested(_Upserted)
    problems = fields.Nested(_Upserted)
    visits = fields.Nested(_VisitChanges)


class _Revoked(Schema):
    households = fields.List(fields.String())
    problems = fields.List(fields.String())


class PullResponseSchema(Schema):
    changes = fields.Nested(_Changes)
    revoked = fields.Nested(_Revoked)
    next_cursor = fields.String()
    has_more = fields.Boolean()
    server_time = fields.String()
