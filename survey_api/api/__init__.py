"""HTTP layer: one flask-smorest blueprint per resource."""

from flask_smorest import Blueprint as _Blueprint
from werkzeug.routing import BaseConverter

from schemas.common import UUID_RE

from ..request_body import BodyParser

API_PREFIX = "/api/v1"


class RecordIdConverter(BaseConverter):
    """`<record_id:...>`: a path segment that is a UUID. A word beside the ids in the same
    collection (`/households/import`) then never reads as an id: GET of it is 405."""

    regex = UUID_RE.strip("^$")


def register_converters(app, api):
    app.url_map.converters["record_id"] = RecordIdConverter
    api.register_converter(RecordIdConverter, lambda _c: {"type": "string", "format": "uuid"})


class Blueprint(_Blueprint):
    """flask-smorest Blueprint reading bodies through our checked JSON parser."""

    ARGUMENTS_PARSER = BodyParser()


def blueprint(name, import_name, path="", description=""):
    return Blueprint(name, import_name, url_prefix=API_PREFIX + path, description=description)
