"""Problem categories: everyone reads them; admin adds and edits (no deletes)."""

from flask import request

from schemas.categories import (
    CategoryCreateSchema,
    CategoryListQuery,
    CategoryPageSchema,
    CategoryPatchSchema,
    CategorySchema,
)

from ..categories_seed import DEFAULT_WORKING_DAYS
from ..db import get_db, write_tx
from ..errors import ApiError, validation_error
from ..pagination import decode_cursor, page
from ..scope import current_scope
from ..storage import audit
from ..storage import categories as category_store
from . import blueprint

blp = blueprint("categories", __name__, description="Problem categories and their deadlines")


def _public(row):
    return {k: row[k] for k in ("code", "name", "parent_code", "working_days")}


@blp.route("/categories", methods=["GET"])
@blp.arguments(CategoryListQuery, location="query")
@blp.response(200, CategoryPageSchema)
def list_categories(args):
    """Every category, each group followed by its leaves (any authenticated user)."""
    after = decode_cursor(args["cursor"], (int, str))
    if after is not None and not (isinstance(after, list) and len(after) == 2):
        raise ApiError(422, "VALIDATION_ERROR", "The cursor is not valid.",
                       errors={"cursor": ["Not a valid cursor."]})
    rows = category_store.list_categories(get_db().conn, after=after, limit=args["limit"] + 1)
    body = page(rows, args["limit"], key=lambda r: [r["sort"], r["code"]])
    body["items"] = [_public(r) for r in body["items"]]
    return body


@blp.route("/categories", methods=["POST"])
@blp.arguments(CategoryCreateSchema)
@blp.response(201, CategorySchema)
def create_category(args):
    """Add a group, or a leaf `group.leaf` with its working days (admin only)."""
    scope = current_scope()
    scope.require_role("admin")
    code, parent_code = args["code"], args["parent_code"]
    working_days = args.get("working_days")
    conn = get_db().conn
    with write_tx(conn):
        if category_store.get(conn, code):
            raise validation_error({"code": ["A category with this code exists."]})
        if parent_code is None:
            if "." in code:
                raise validation_error({"parent_code": ["A leaf 'group.leaf' needs its group."]})
            if working_days is not None:
                raise validation_error({"working_days": ["Groups have no working days."]})
        else:
            parent = category_store.get(conn, parent_code)
            if parent is None or parent["parent_code"] is not None:
                raise validation_error({"parent_code": ["Must name an existing group."]})
            if not code.startswith(parent_code + "."):
                raise validation_error({"code": [f"A leaf of {parent_code} is "
                                                 f"'{parent_code}.<name>'."]})
            if working_days is None:
                working_days = DEFAULT_WORKING_DAYS
        row = category_store.insert(conn, code, args["name"], parent_code, working_days)
        audit.record(conn, actor=scope.user_id, action="category.create", target=code,
                     ip=request.remote_addr, details=_public(row))
    return _public(row), 201, {"Location": f"/api/v1/categories/{code}"}


@blp.route("/categories/<code>", methods=["GET"])
@blp.response(200, CategorySchema)
def get_category(code):
    """One category."""
    row = category_store.get(get_db().conn, code)
    if row is None:
        raise ApiError(404, "NOT_FOUND", f"No category {code}.")
    return _public(row)


@blp.route("/categories/<code>", methods=["PATCH"])
@blp.arguments(CategoryPatchSchema)
@blp.response(200, CategorySchema)
def patch_category(args, code):
    """Rename a category or change a leaf's working days (admin only; applies to
    deadlines computed afterwards)."""
    scope = current_scope()
    scope.require_role("admin")
    conn = get_db().conn
    with write_tx(conn):
        row = category_store.get(conn, code)
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"No category {code}.")
        if "working_days" in args:
            if row["parent_code"] is None and args["working_days"] is not None:
                raise validation_error({"working_days": ["Groups have no working days."]})
            if row["parent_code"] is not None and args["working_days"] is None:
                raise validation_error({"working_days": ["A leaf needs its working days."]})
        row = category_store.update(conn, code, args)
        audit.record(conn, actor=scope.user_id, action="category.update", target=code,
                     ip=request.remote_addr, details=args)
    return _public(row)
