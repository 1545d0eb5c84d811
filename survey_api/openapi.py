"""The flask-smorest Api, documenting every error as application/problem+json."""

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from schemas.common import ProblemDetailSchema

from .errors import PROBLEM_JSON


class SurveyApi(Api):
    ERROR_SCHEMA = ProblemDetailSchema

    def _register_error_handlers(self):
        """Our own handlers (errors.register) render every error."""

    def _register_responses(self):
        """Error responses are problem+json, as errors.py sends them."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = PROBLEM_JSON
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)
