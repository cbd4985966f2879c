"""Errors in OpenAI's JSON shape: ``{"error": {"message", "type", "param", "code"}}``.

Handlers raise ``APIError``; ``install_error_handlers`` turns it, request validation errors, the
library's input errors (``UserError``, ``ValueError``, ``FileNotFoundError``) and unknown routes
into that shape with the right status. Anything else is a bug: logged with its traceback, 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("palette.server")

# status -> OpenAI's error type
TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


class APIError(Exception):
    """An answer that is not audio: status, message naming the problem, optional param/code."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.retry_after = retry_after


def error_response(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    retry_after: int | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "message": message,
            "type": TYPES.get(status, "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def input_error(err: Exception, param: str | None = None) -> APIError:
    """The library's complaint about an input, as a 400."""
    message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return APIError(400, str(message) or type(err).__name__, param=param)


def _validation_message(err: RequestValidationError) -> tuple[str, str | None]:
    first = err.errors()[0] if err.errors() else {}
    where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    param = ".".join(where) or None
    message = first.get("msg", "invalid request")
    return (f"{param}: {message}" if param else message), param


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api(request: Request, err: APIError):
        return error_response(err.status, err.message, err.param, err.code, err.retry_after)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, err: RequestValidationError):
        message, param = _validation_message(err)
        return error_response(400, message, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, err: StarletteHTTPException):
        message = "no such route: " + request.url.path if err.status_code == 404 else err.detail
        return error_response(err.status_code, str(message))

    @app.exception_handler(Exception)
    async def _bug(request: Request, err: Exception):
        rid = getattr(request.state, "request_id", "-")
        log.exception("request %s failed", rid)
        return error_response(500, f"internal error (request id {rid})")
