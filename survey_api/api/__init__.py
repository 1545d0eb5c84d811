"""HTTP layer: one flask-smorest blueprint per resource."""

from flask_smorest import Blueprint as _Blueprint

from ..request_body import BodyParser

API_PREFIX = "/api/v1"


class Blueprint(_Blueprint):
    """flask-smorest Blueprint reading bodies through our checked JSON parser."""

    ARGUMENTS_PARSER = BodyParser()


def blueprint(name, import_name, path="", description=""):
    return Blueprint(name, import_name, url_prefix=API_PREFIX + path, description=description)
