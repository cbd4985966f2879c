"""Plain ASGI middleware (streaming-safe): a request id on every request and response, one log
line per request on stderr, Bearer auth on ``/v1``, and an early 413 for oversized uploads."""

from __future__ import annotations

import hmac
import logging
import secrets
import time

from palette.tts.server.errors import error_response

log = logging.getLogger("palette.server")
UPLOAD_SLACK = 64 * 1024  # multipart framing and form fields around the file


class RequestMiddleware:
    def __init__(self, app, api_key: str | None, max_upload_bytes: int):
        self.app, self.api_key, self.max_upload = app, api_key, max_upload_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = headers.get("x-request-id", "")[:64] or secrets.token_hex(4)
        scope.setdefault("state", {})["request_id"] = rid
        start, status = time.monotonic(), [0]

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        refusal = self.refuse(scope, headers)
        try:
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s -> %s in %.0f ms",
                rid,
                scope["method"],
                scope["path"],
                status[0],
                1000 * (time.monotonic() - start),
            )

    def refuse(self, scope, headers):
        """A response that ends the request before the app sees it, or None."""
        path = scope["path"]
        if self.api_key and path.startswith("/v1/") and scope["method"] != "OPTIONS":
            given = headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), self.api_key.encode()):
                why = "invalid API key" if token else "missing API key (Authorization: Bearer KEY)"
                return error_response(401, why, code="invalid_api_key")
        length = headers.get("content-length", "")
        if (
            path == "/v1/voices"
            and length.isdigit()
            and int(length) > self.max_upload + UPLOAD_SLACK
        ):
            return error_response(
                413, f"the upload is larger than {self.max_upload} bytes", param="file"
            )
        return None
