"""Photos: content-addressed blobs. PUT raw bytes, HEAD to check, GET if you may see them."""

import re

from flask import current_app, request

from schemas.blobs import CONTENT_TYPES, BlobSchema

from ..errors import ApiError
from ..scope import current_scope
from ..services import photos
from . import blueprint

blp = blueprint("blobs", __name__, description="Photos (content-addressed by sha256)")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _sha(value):
    if not _SHA.fullmatch(value):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    return value


@blp.route("/blobs/<sha256>", methods=["PUT"])
@blp.response(201, BlobSchema)
@blp.alt_response(200, schema=BlobSchema, description="Already stored")
@blp.doc(
    requestBody={
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in CONTENT_TYPES},
    }
)
def put_blob(sha256):
    """Upload a photo (at most 10 MiB); the path is the sha256 of the body."""
    sha256 = _sha(sha256)
    scope = current_scope()
    photos.check_content_type(request.mimetype)
    max_bytes = current_app.config["MAX_BLOB_BYTES"]
    # One byte over: under gunicorn (wsgi.input_terminated) werkzeug's stream raises 413 on a
    # read at its limit, which refused a photo of exactly max_bytes; receive() keeps the limit.
    request.max_content_length = max_bytes + 1
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"A photo may be at most {max_bytes} bytes.")
    record, created = photos.upload(
        scope,
        sha256,
        request.mimetype,
        request.stream,
        blob_dir=current_app.config["BLOB_DIR"],
        max_bytes=max_bytes,
        ip=request.remote_addr,
    )
    return record, 201 if created else 200


@blp.route("/blobs/<sha256>", methods=["GET", "HEAD"])
def get_blob(sha256):
    """HEAD: is it stored (any user)? GET: the photo, to its uploader and to users who can see
    a record referencing it."""
    scope = current_scope()
    row, path = photos.find(
        scope,
        _sha(sha256),
        blob_dir=current_app.config["BLOB_DIR"],
        content=request.method == "GET",
    )
    # Photos are at most 10 MiB: read them whole rather than leave a file handle to the server.
    with open(path, "rb") as f:
        data = f.read()
    resp = current_app.response_class(data, mimetype=row["content_type"])
    resp.set_etag(sha256)
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    resp.make_conditional(request)
    return resp
