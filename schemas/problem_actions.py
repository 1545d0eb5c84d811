"""Problem actions (POST /problems/{id}/actions and push `problem_action` items).

One parameter schema per action; unknown parameters are an error. The request body of the
REST endpoint is ``{action, base_version, ...parameters}``; a push item carries
``base_version`` beside ``data`` and ``data = {action, ...parameters}``.
"""

from marshmallow import ValidationError, fields, validate

from .common import UNIT_CODE_RE, AwareDateTime, Regexp, StrictSchema, Uuid

ACTIONS = (
    "accept",
    "reject",
    "assign",
    "start",
    "rectify",
    "verify",
    "escalate",
    "extend",
    "suspend",
    "resume",
    "rate",
    "reopen",
    "supervise",
)

NOTE_MAX = 2000
SHA256_LIST_MAX = 50


class StrictBoolean(fields.Boolean):
    """true or false, nothing else (no 1, "yes", "true")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class Amount(fields.Float):
    """A JSON number of yuan (no strings, no booleans), 0..100,000,000, cents precision."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(0, 100_000_000), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a valid number.")
        return round(super()._deserialize(value, attr, data, **kwargs), 2)


def _note(required=False):
    if required:
        return fields.String(required=True, validate=validate.Length(1, NOTE_MAX))
    return fields.String(allow_none=True, validate=validate.Length(max=NOTE_MAX))


class NoteParams(StrictSchema):
    """accept, reject, start, escalate, suspend, resume, reopen: an optional note."""

    note = _note()


class AssignParams(StrictSchema):
    responsible_unit = fields.String(
        required=True, validate=Regexp(UNIT_CODE_RE, error="Not a unit code.")
    )
    responsible_person = fields.String(required=True, validate=validate.Length(1, 100))
    responsible_user_id = Uuid(allow_none=True)
    note = _note()


class CostShareSchema(StrictSchema):
    """Amounts in yuan: residents pay a little, society helps a little, the street subsidises.
    An amount left out is 0."""

    resident = Amount(load_default=0.0)
    society = Amount(load_default=0.0)
    subsidy = Amount(load_default=0.0)


class RectifyParams(StrictSchema):
    measures = fields.String(required=True, validate=validate.Length(1, NOTE_MAX))
    photos_after = fields.List(
        fields.String(validate=Regexp(r"^[0-9a-f]{64}$", error="Not a sha256.")),
        validate=validate.Length(max=SHA256_LIST_MAX),
    )
    cost_share = fields.Nested(CostShareSchema, allow_none=True)
    note = _note()


class VerifyParams(StrictSchema):
    ok = StrictBoolean(required=True)
    note = _note()


class ExtendParams(StrictSchema):
    due_at = AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, NOTE_MAX))


class RateParams(StrictSchema):
    rating = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    rating_comment = fields.String(allow_none=True, validate=validate.Length(max=NOTE_MAX))


class SuperviseParams(StrictSchema):
    note = _note(required=True)


PARAMS = {action: NoteParams for action in ACTIONS}
PARAMS.update(
    assign=AssignParams,
    rectify=RectifyParams,
    verify=VerifyParams,
    extend=ExtendParams,
    rate=RateParams,
    supervise=SuperviseParams,
)


class ActionRequestSchema(StrictSchema):
    """POST /problems/{id}/actions — `action`, `base_version` and that action's parameters:
    verify {ok, note?}; assign {responsible_unit, responsible_person, responsible_user_id?,
    note?}; rectify {measures, photos_after?, cost_share?: {resident, society, subsidy},
    note?}; extend {due_at (future), reason}; rate {rating 1..5, rating_comment?};
    supervise {note}; every other action {note?}. Parameters of another action are 422."""

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    base_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    note = fields.String(allow_none=True)
    responsible_unit = fields.String()
    responsible_person = fields.String()
    responsible_user_id = fields.String(allow_none=True)
    measures = fields.String()
    photos_after = fields.List(fields.String())
    cost_share = fields.Nested(CostShareSchema, allow_none=True)
    ok = fields.Boolean()
    due_at = AwareDateTime()
    reason = fields.String()
    rating = fields.Integer(strict=True)
    rating_comment = fields.String(allow_none=True)
