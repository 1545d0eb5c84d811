"""Photos: content-addressed blobs. PUT raw bytes, HEAD to check, GET if you may see them."""

import os
import re

from flask import current_app, request

from schemas.blobs import CONTENT_TYPES, BlobSchema

from ..db import get_db, write_tx
from ..errors import ApiError
from ..scope import current_scope
from ..services import blob_store
from ..storage import audit, blobs
from ..storage.changes import record_change
from . import blueprint

blp = blueprint("blobs", __name__, description="Photos (content-addressed by sha256)")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _sha(value):
    if not _SHA.fullmatch(value):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    return value


def _public(row):
    return {"sha256": row["sha256"], "size": row["size"], "content_type": row["content_type"]}


def _touch_referencing(conn, sha256):
    """A photo arrived: log a change for each record showing it as missing, so pulls resend it."""
    refs = conn.execute(
        "SELECT entity, record_id, grid_code FROM photo_refs WHERE sha256 = ?",
        (sha256,)).fetchall()
    for entity, record_id, grid_code in refs:
        seq = record_change(conn, entity, record_id, grid_code)
        table = {"visit": "visits", "problem": "problems"}.get(entity)
        if table:
            conn.execute(f"UPDATE {table} SET seq = ? WHERE id = ?", (seq, record_id))


@blp.route("/blobs/<sha256>", methods=["PUT"])
@blp.response(201, BlobSchema)
@blp.alt_response(200, schema=BlobSchema, description="Already stored")
@blp.doc(requestBody={"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in CONTENT_TYPES}})
def put_blob(sha256):
    """Upload a photo (at most 10 MiB); the path is the sha256 of the body."""
    sha256 = _sha(sha256)
    scope = current_scope()
    content_type = request.mimetype
    if content_type not in CONTENT_TYPES:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                       f"Photos must be one of {', '.join(CONTENT_TYPES)}.")
    max_bytes = current_app.config["MAX_BLOB_BYTES"]
    # One byte over: under gunicorn (wsgi.input_terminated) werkzeug's stream raises 413 on a
    # read at its limit, which refused a photo of exactly max_bytes; receive() keeps the limit.
    request.max_content_length = max_bytes + 1
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"A photo may be at most {max_bytes} bytes.")
    conn = get_db().conn
    existing = blobs.get(conn, sha256)
    blob_dir = current_app.config["BLOB_DIR"]
    if existing and os.path.exists(blob_store.path_for(blob_dir, sha256)):
        blob_store.verify(request.stream, sha256, content_type, max_bytes)
        return _public(existing), 200
    tmp, size = blob_store.receive(request.stream, blob_dir, sha256, content_type, max_bytes)
    blob_store.commit(tmp, blob_dir, sha256)
    with write_tx(conn):
        created = blobs.get(conn, sha256) is None
        blobs.insert(conn, sha256, content_type, size, scope.user_id)
        if created:
            _touch_referencing(conn, sha256)
            audit.record(conn, actor=scope.user_id, action="blob.upload", target=sha256,
                         ip=request.remote_addr, details={"size": size,
                                                          "content_type": content_type})
    return _public(blobs.get(conn, sha256)), 201 if created else 200


@blp.route("/blobs/<sha256>", methods=["GET", "HEAD"])
def get_blob(sha256):
    """HEAD: is it stored (any user)? GET: the photo, to its uploader and to users who can see
    a record referencing it."""
    scope = current_scope()
    conn = get_db().conn
    row = blobs.get(conn, _sha(sha256))
    path = blob_store.path_for(current_app.config["BLOB_DIR"], sha256)
    if row is None or not os.path.exists(path):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    if request.method == "GET" and row["uploaded_by"] != scope.user_id and not any(
            scope.holds_grid(g) for g in blobs.referencing_grids(conn, sha256)):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    # Photos are at most 10 MiB: read them whole rather than leave a file handle to the server.
    with open(path, "rb") as f:
        data = f.read()
    resp = current_app.response_class(data, mimetype=row["content_type"])
    resp.set_etag(sha256)
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    resp.make_conditional(request)
    return resp
