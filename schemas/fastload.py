"""`schema.load(data)` for well-formed data, without the schema machinery around the fields.

A push loads two schemas per item (PushItemSchema and the record's data schema), and most of
marshmallow's time there is spent around the fields, not in them: hooks looked up per call,
an error store, a getter closure per field, the unknown-key set, `And(*validators)` built
for every value. `FastLoader(schema).load(data)` walks the same schema objects directly:

- every rule stays where it is: the fields' own `_deserialize`, their validator objects, the
  schema's pre_load and validates_schema hooks, `allow_none`, `required`, `load_default`,
  `data_key`/`attribute` and `unknown`, all read from the schema; nothing is restated here;
- it only ever ACCEPTS: on anything it does not take in full (an error, a type it does not
  know exactly, a missing required field, an unknown key) it gives up and the answer is
  `schema.load(data)` itself, so every error message is marshmallow's own;
- a schema using what it does not handle (partial, many, only/exclude, @validates, post_load,
  pass_original or pass_collection hooks, field pre/post_load, unknown=INCLUDE, dotted
  attributes) is not compiled: its loads always go to `schema.load`.

tests/test_fastload.py proves `load(data) == schema.load(data)` (the same values, the same
normalisation, the same errors) over generated valid and invalid data for every schema a
push loads.
"""

from collections.abc import Mapping

from marshmallow import EXCLUDE, RAISE, fields
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import missing


class _GiveUp(Exception):
    """Not compilable: this schema always loads through marshmallow."""


def _run(validators, value):
    """The field's validators; a plain function returning False is an error (marshmallow's
    And), which the loader treats as 'give up' too."""
    for check in validators:
        if check(value) is False:
            raise ValueError("validator returned False")


def _string(field, name, checks):
    def load(value, data):
        if type(value) is not str:
            raise TypeError(name)
        _run(checks, value)
        return value

    return load


def _integer(field, name, checks):
    if field.as_string:
        raise _GiveUp(name)

    def load(value, data):
        if type(value) is not int:  # not bool: marshmallow refuses True/False for numbers
            raise TypeError(name)
        _run(checks, value)
        return value

    return load


def _dict(field, name, checks):
    if field.key_field is not None or field.value_field is not None:
        raise _GiveUp(name)
    mapping_type = field.mapping_type

    def load(value, data):
        if type(value) is not dict:
            raise TypeError(name)
        value = mapping_type(value)  # a copy, as marshmallow's
        _run(checks, value)
        return value

    return load


def _list(field, name, checks):
    inner = _leaf_or_none(field.inner, name)

    def load(value, data):
        if type(value) is not list:
            raise TypeError(name)
        value = [inner(each, data) for each in value]
        _run(checks, value)
        return value

    return load


def _nested(field, name, checks):
    if field.many or field.only is not None or field.exclude:
        raise _GiveUp(name)
    nested = _compile(field.schema, field.unknown)

    def load(value, data):
        if type(value) is not dict:
            raise TypeError(name)
        value = nested(value)
        _run(checks, value)
        return value

    return load


def _other(field, name, checks):
    """Any other field: its own _deserialize, then its validators (Field.deserialize less the
    missing/None handling, done by the caller)."""
    kind = type(field)
    if isinstance(field, fields.Nested | fields.List | fields.Mapping):
        raise _GiveUp(name)  # a subclass of these: its semantics are its own
    if kind.deserialize is not fields.Field.deserialize:
        raise _GiveUp(name)
    if kind._validate is not fields.Field._validate:
        raise _GiveUp(name)

    def load(value, data):
        value = field._deserialize(value, name, data)
        _run(checks, value)
        return value

    return load


# Exact field classes whose deserialisation is known here; subclasses go to _other.
_BUILDERS = {
    fields.String: _string,
    fields.Integer: _integer,
    fields.Dict: _dict,
    fields.List: _list,
    fields.Nested: _nested,
}


def _leaf(field, name):
    """value → loaded value for one non-missing, non-None value, or raising."""
    if field.pre_load or field.post_load:  # marshmallow 4 field-level processors
        raise _GiveUp(name)
    build = _BUILDERS.get(type(field), _other)
    return build(field, name, tuple(field.validators))


def _leaf_or_none(field, name):
    """_leaf with the field's allow_none (a List's inner field, or a schema field)."""
    load = _leaf(field, name)
    if not field.allow_none:

        def not_none(value, data):
            if value is None:
                raise TypeError(name)
            return load(value, data)

        return not_none

    def maybe_none(value, data):
        return None if value is None else load(value, data)

    return maybe_none


def _hooks(schema, tag):
    """Bound methods of a schema's hooks of one kind, in marshmallow's order."""
    hooks = []
    for attr_name, pass_collection, options in schema._hooks[tag]:
        if pass_collection or options.get("pass_original"):
            raise _GiveUp(attr_name)
        hooks.append(getattr(schema, attr_name))
    return hooks


def _check_compilable(schema, unknown):
    if schema.many or schema.partial or unknown not in (RAISE, EXCLUDE):
        raise _GiveUp(type(schema).__name__)
    if schema._hooks[VALIDATES] or schema._hooks[POST_LOAD] or schema.dict_class is not dict:
        raise _GiveUp(type(schema).__name__)


def _plan(schema):
    """[(data key, attribute, loader, required, field)] in the schema's field order."""
    plan = []
    for attr_name, field in schema.load_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        attribute = field.attribute or attr_name
        if "." in attribute:
            raise _GiveUp(attribute)
        plan.append((key, attribute, _leaf_or_none(field, key), field.required, field))
    return plan


def _compile(schema, unknown=None):
    """data dict → loaded dict as schema.load gives it, or raising (then: give up)."""
    unknown = schema.unknown if unknown is None else unknown
    _check_compilable(schema, unknown)
    pre_load = _hooks(schema, PRE_LOAD)
    validators = _hooks(schema, VALIDATES_SCHEMA)
    partial = schema.partial
    plan = _plan(schema)
    known = frozenset(key for key, *_ in plan)
    raise_unknown = unknown == RAISE

    def load(data):
        if type(data) is not dict:
            raise TypeError("not an object")
        for hook in pre_load:
            data = hook(data, many=False, partial=partial, unknown=unknown)
            if not isinstance(data, Mapping):
                raise TypeError("not an object")
        if raise_unknown and not known.issuperset(data):
            raise KeyError("unknown field")
        out = {}
        for key, attribute, loader, required, field in plan:
            value = data.get(key, missing)
            if value is missing:
                if required:
                    raise KeyError(key)
                default = field.load_default
                if default is not missing:
                    out[attribute] = default() if callable(default) else default
                continue
            out[attribute] = loader(value, data)
        for check in validators:
            check(out, partial=partial, many=False, unknown=unknown)
        return out

    return load


class FastLoader:
    """schema.load(data) with a fast path for data it accepts in full (see the module)."""

    __slots__ = ("schema", "_fast")

    def __init__(self, schema):
        if isinstance(schema, type):
            schema = schema()
        self.schema = schema
        try:
            self._fast = _compile(schema)
        except _GiveUp:
            self._fast = None

    def fast(self, data):
        """The loaded dict when the fast path takes data in full, else None (no errors)."""
        if self._fast is None:
            return None
        try:
            return self._fast(data)
        except Exception:
            return None

    def load(self, data):
        loaded = self.fast(data)
        return self.schema.load(data) if loaded is None else loaded


_LOADERS = {}


def loader(schema):
    """The FastLoader of a schema instance (built once per instance)."""
    found = _LOADERS.get(id(schema))
    if found is None or found.schema is not schema:
        found = _LOADERS[id(schema)] = FastLoader(schema)
    return found
