"""Reading request input: JSON bodies (content type, UTF-8, JSON syntax, duplicate keys,
nesting depth) and query parameters (unknown names).

Every JSON body is checked once here, before any view runs, so that a malformed
body is always a 400/415 problem and nothing downstream parses it again.
"""

import json
import re

from flask import g, request
from webargs import core
from webargs.fields import DelimitedList
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from .errors import ApiError, validation_error

# Endpoints that take a raw (non-JSON) body: they check their own content type.
RAW_BODY_ENDPOINTS = {
    "blobs.put_blob",
    "households.import_households",
    "household_import.import_households",
}
_NO_BODY = object()


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicate_keys(pairs):
    """json object_pairs_hook: {"a": 1, "a": 2} is malformed, not "the last one wins"."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        key = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise _DuplicateKey(key)
    return obj


def _depth_ok(value, limit):
    """True when no array/object nests deeper than limit (iterative: no recursion limit).

    Level by level: the arrays and objects at depth 1, 2, … (json.loads makes plain dicts
    and lists only, so a type test is exact)."""
    level = [value] if type(value) in _CONTAINERS else []
    depth = 1
    while level:
        if depth > limit:
            return False
        deeper = []
        for node in level:
            children = node.values() if type(node) is dict else node
            deeper.extend(v for v in children if type(v) in _CONTAINERS)
        level = deeper
        depth += 1
    return True


_CONTAINERS = (dict, list)


def parse_json_bytes(raw, max_depth=32):
    """Decode and parse a JSON body, raising the 400 problem the contract asks for."""
    try:
        text = raw.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        value = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicate_keys
        )
    except _DuplicateKey as e:
        raise ApiError(400, "MALFORMED_BODY", f"The body repeats the key {e.args[0]!r}.") from None
    except UnicodeDecodeError:
        raise ApiError(400, "MALFORMED_BODY", "The body is not valid UTF-8.") from None
    except RecursionError:
        raise ApiError(400, "MALFORMED_BODY", f"The body nests deeper than {max_depth}.") from None
    except ValueError as e:
        raise ApiError(400, "MALFORMED_BODY", f"The body is not valid JSON: {e}") from None
    if not _depth_ok(value, max_depth):
        raise ApiError(400, "MALFORMED_BODY", f"The body nests deeper than {max_depth}.")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise ApiError(
            400,
            "MALFORMED_BODY",
            "The body escapes a lone UTF-16 surrogate (not valid Unicode text).",
        )
    return value


# A \uD800-\uDFFF escape: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value):
    """True when any key or string holds a lone surrogate: such text cannot be stored in
    SQLite or encoded as UTF-8."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
            stack.extend(node.keys())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def is_json_mimetype(mimetype):
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def check_json_body():
    """before_request: validate the body of every JSON write request."""
    g.json_body = _NO_BODY
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.endpoint in RAW_BODY_ENDPOINTS or request.endpoint is None:
        return
    if request.blueprint == "console":
        return  # HTML forms (survey_api/console)
    raw = _read_body()
    if raw:
        if not is_json_mimetype(request.mimetype):
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.")
        g.json_body = parse_json_bytes(raw, _max_depth())
    if request.method == "PATCH" and g.json_body in (_NO_BODY, {}):
        raise validation_error(
            {"_schema": ["Send at least one field to change."]},
            "A PATCH changes at least one field.",
        )


# The query parameter names each endpoint declares, filled on first use.
_QUERY_NAMES = {}


def check_query():
    """before_request: a query parameter the endpoint does not take is a 422 naming it (a
    typo like ?stauts= must not silently return everything). Repeats and values are the
    endpoint's query schema's business (BodyParser.load_querystring)."""
    from flask import current_app

    endpoint = request.endpoint
    if endpoint is None or not request.args or not request.path.startswith("/api/"):
        return
    names = _QUERY_NAMES.get(endpoint)
    if names is None:
        names = _QUERY_NAMES[endpoint] = _declared_query_names(current_app.view_functions[endpoint])
    unknown = sorted(set(request.args) - names)
    if unknown:
        raise validation_error(
            {name: ["Unknown query parameter."] for name in unknown},
            "Unknown query parameter: " + ", ".join(unknown) + ".",
        )


def _declared_query_names(view):
    """The names of the query schemas flask-smorest recorded for a view."""
    names = set()
    for param in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if param.get("location", param.get("in")) in ("query", "querystring"):
            schema = param["schema"]
            schema = schema() if isinstance(schema, type) else schema
            names.update(_query_fields(schema))
    return frozenset(names)


def _read_body():
    """The raw body; 413 when it is over MAX_CONTENT_LENGTH, and a body of exactly that size
    is read (werkzeug's stream limit refuses one under gunicorn: one byte of slack)."""
    from flask import current_app

    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is None:
        return request.get_data(cache=True)
    request.max_content_length = limit + 1
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"A request body may be at most {limit} bytes.")
    return raw


def _max_depth():
    from flask import current_app

    return current_app.config["JSON_MAX_DEPTH"]


def json_body():
    """The parsed body (None when the request had none)."""
    value = g.get("json_body", _NO_BODY)
    return None if value is _NO_BODY else value


class BodyParser(FlaskParser):
    """webargs parser that reads the body check_json_body already parsed."""

    def _raw_load_json(self, req):
        value = g.get("json_body", _NO_BODY)
        if value is _NO_BODY:
            return core.missing
        return value

    def load_json(self, req, schema):
        value = self._raw_load_json(req)
        # A missing body validates as an empty object, so required fields are reported.
        return {} if value is core.missing else value

    def load_querystring(self, req, schema):
        """Query parameters; one that takes a single value but is repeated is a 422
        (`limit=1&limit=2` has no meaning to pick)."""
        args = req.args
        fields = _query_fields(schema)
        lists = [
            key
            for key, field in fields.items()
            if isinstance(field, DelimitedList) and len(args.getlist(key)) > 1
        ]
        if lists:  # status=a&status=b means status=a,b
            args = MultiDict(args)
            for key in lists:
                args.setlist(key, [_delimiter(fields[key]).join(args.getlist(key))])
        proxy = self._makeproxy(args, schema)
        repeated = sorted(
            key
            for key in args
            if key not in proxy.multiple_keys and key in fields and len(args.getlist(key)) > 1
        )
        if repeated:
            raise validation_error({key: ["Give this parameter once."] for key in repeated})
        return proxy


def _query_fields(schema):
    return {field.data_key or name: field for name, field in schema.fields.items()}


def _delimiter(field):
    return getattr(field, "delimiter", ",")
