"""How CRM problems look over HTTP: field-by-field 400s and plain 404s."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from app.crm.duplicates import CannotMerge
from app.crm.fields import RecordInvalid
from app.crm.links import InvalidLink
from app.crm.query import QueryError
from app.crm.records import BatchInvalid, RecordNotFound
from app.crm.search import SearchTooShort
from app.crm.services import UnknownObject
from app.crm.views import InvalidView, ViewNotFound
from app.lib.errors import answer_with

__all__ = ["crm_exception_handlers"]


def _record_invalid(request: Request[Any, Any, Any], exc: RecordInvalid) -> Response[Any]:
    return Response({"status_code": 400, "detail": "Some fields are not valid.", "errors": exc.errors}, status_code=400)


def _batch_invalid(request: Request[Any, Any, Any], exc: BatchInvalid) -> Response[Any]:
    errors = {str(index): fields for index, fields in exc.errors.items()}
    return Response({"status_code": 400, "detail": str(exc), "errors": errors}, status_code=400)


def _not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    response: Response[Any] = answer_with(404)(request, LookupError("Not found."))
    return response


crm_exception_handlers: dict[type[Exception] | int, Any] = {
    RecordInvalid: _record_invalid,
    BatchInvalid: _batch_invalid,
    RecordNotFound: _not_found,
    UnknownObject: answer_with(404),
    QueryError: answer_with(400),
    SearchTooShort: answer_with(400),
    InvalidView: answer_with(400),
    CannotMerge: answer_with(400),
    InvalidLink: answer_with(400),
    ViewNotFound: answer_with(404),
}
