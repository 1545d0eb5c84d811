"""Problem categories: everyone reads them; admin adds and edits (no deletes)."""

from flask import request

from schemas.categories import (
    CategoryCreateSchema,
    CategoryListQuery,
    CategoryPageSchema,
    CategoryPatchSchema,
    CategorySchema,
)

from ..db import get_db
from ..errors import ApiError
from ..pagination import decode_cursor, page
from ..scope import current_scope
from ..services import categories as service
from . import blueprint

blp = blueprint("categories", __name__, description="Problem categories and their deadlines")


@blp.route("/categories", methods=["GET"])
@blp.arguments(CategoryListQuery, location="query")
@blp.response(200, CategoryPageSchema)
def list_categories(args):
    """Every category, each group followed by its leaves (any authenticated user)."""
    after = decode_cursor(args["cursor"], (int, str))
    if after is not None and not (isinstance(after, list) and len(after) == 2):
        raise ApiError(
            422,
            "VALIDATION_ERROR",
            "The cursor is not valid.",
            errors={"cursor": ["Not a valid cursor."]},
        )
    rows = service.list_categories(get_db().conn, after=after, limit=args["limit"] + 1)
    body = page(rows, args["limit"], key=lambda r: [r["sort"], r["code"]])
    body["items"] = [service.public(r) for r in body["items"]]
    return body


@blp.route("/categories", methods=["POST"])
@blp.arguments(CategoryCreateSchema)
@blp.response(201, CategorySchema)
def create_category(args):
    """Add a group, or a leaf `group.leaf` with its working days (admin only)."""
    scope = current_scope()
    row = service.create_category(
        scope.conn,
        scope,
        args["code"],
        args["name"],
        args["parent_code"],
        args.get("working_days"),
        ip=request.remote_addr,
    )
    return row, 201, {"Location": f"/api/v1/categories/{row['code']}"}


@blp.route("/categories/<code>", methods=["GET"])
@blp.response(200, CategorySchema)
def get_category(code):
    """One category."""
    return service.get_category(get_db().conn, code)


@blp.route("/categories/<code>", methods=["PATCH"])
@blp.arguments(CategoryPatchSchema)
@blp.response(200, CategorySchema)
def patch_category(args, code):
    """Rename a category or change a leaf's working days (admin only; applies to
    deadlines computed afterwards)."""
    scope = current_scope()
    return service.update_category(scope.conn, scope, code, args, ip=request.remote_addr)
