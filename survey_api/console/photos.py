"""Photos in the console: the stored photo, or ?size=thumb its JPEG thumbnail (<= 320 px).

Readable by exactly the users who may GET /api/v1/blobs/{sha256} (services/photos.py).
"""

import re

from flask import abort, current_app, request, send_file

from ..scope import current_scope
from ..services import photos
from . import bp

_SHA = re.compile(r"^[0-9a-f]{64}$")


@bp.route("/photos/<sha256>")
def photo(sha256):
    """A photo, or its thumbnail with ?size=thumb."""
    size = request.args.get("size")
    if size not in (None, "thumb") or not _SHA.fullmatch(sha256):
        abort(404)
    row, path = photos.find(current_scope(), sha256, blob_dir=current_app.config["BLOB_DIR"])
    if size == "thumb":
        path, mimetype = photos.thumbnail(path), "image/jpeg"
    else:
        mimetype = row["content_type"]
    resp = send_file(
        path,
        mimetype=mimetype,
        etag=f"{sha256}-{size or 'full'}",
        conditional=True,
        max_age=31536000,
    )
    resp.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return resp
