"""The HTTP side of the stand-in: the Bot API's routes, reading a request's parameters (JSON,
form or multipart), checking them against the Bot API description, and Telegram's response
envelopes. Each rejected request is recorded as a Violation, so a test fails on the first bad
request instead of on its visible consequences."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from .errors import ApiError, bad_request
from .events import EventKind
from .limits import MAX_UPLOAD, Faults
from .methods import METHODS, Backend
from .spec import InvalidRequest, UploadedFile, load_spec
from .store import JsonDict

__all__ = ["Transport", "Violation"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Violation:
    """A request the bot should not have made; ``params`` hold no file contents."""

    method: str
    description: str
    params: dict[str, object]
    error_code: int = 400


@dataclass(slots=True)
class _Call:
    """What is known about a request so far, for the violation record if it fails."""

    method: str
    params: dict[str, object] = field(default_factory=dict)


class Transport:
    def __init__(self, *, token: str, backend: Backend, faults: Faults) -> None:
        self._token = token
        self._backend = backend
        self._faults = faults
        self.violations: list[Violation] = []

    def application(self) -> web.Application:
        # Room above the largest upload for the other parts of a multipart request.
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        return app

    async def _handle_api(self, request: web.Request) -> web.Response:
        call = _Call(request.match_info["method"])
        try:
            result = await self._call(request, call)
        except ApiError as exc:
            error = exc
        except Exception as exc:
            logger.exception("stand-in server failed on %s", call.method)
            error = ApiError(500, f"Internal Server Error: stand-in bug: {exc!r}")
        else:
            return web.json_response({"ok": True, "result": result})
        if error.violation:
            self._record_violation(call, error)
        return _error_response(error)

    async def _call(self, request: web.Request, call: _Call) -> object:
        """Authorize, read and validate the request, then run its method."""
        if request.match_info["token"] != self._token:
            raise ApiError(401, "Unauthorized")
        spec = load_spec().method(call.method)
        if spec is None:
            raise ApiError(404, "Not Found")
        call.method = spec.name
        implementation = METHODS.get(spec.name.lower())
        if implementation is None:
            raise bad_request(f"method {spec.name} is not supported by the stand-in server")
        call.params = await _read_params(request)
        try:
            params = load_spec().validate(spec, call.params)
        except InvalidRequest as exc:
            raise ApiError(400, exc.description) from None
        # Injected failures answer valid calls only, so a test still sees the bot's bugs.
        self._faults.raise_next(spec.name)
        return await implementation(self._backend, params)

    def _record_violation(self, call: _Call, error: ApiError) -> None:
        params = _without_files(call.params)
        violation = Violation(call.method, error.description, params, error.error_code)
        logger.warning("stand-in rejected %s: %s", call.method, error.description)
        self.violations.append(violation)
        self._backend.events.emit(EventKind.VIOLATION)

    async def _handle_file(self, request: web.Request) -> web.Response:
        document = self._backend.store.document_at(request.match_info["file_path"])
        if request.match_info["token"] != self._token or document is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=document.data, content_type=document.mime_type)


def _error_response(error: ApiError) -> web.Response:
    body: JsonDict = {
        "ok": False,
        "error_code": error.error_code,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.error_code)


def _without_files(params: Mapping[str, object]) -> dict[str, object]:
    return {k: repr(v) if isinstance(v, UploadedFile) else v for k, v in params.items()}


async def _read_params(request: web.Request) -> dict[str, object]:
    """Query parameters, then the body's: JSON, a form, or multipart with files."""
    params: dict[str, object] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        params.update(await _json_body(request))
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update(await _form_body(request))
    else:
        raise bad_request(f"unsupported Content-Type {request.content_type}")
    return params


async def _json_body(request: web.Request) -> dict[str, object]:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("can't parse JSON body") from None
    if not isinstance(body, dict):
        raise bad_request("JSON body must be an object")
    return body


async def _form_body(request: web.Request) -> dict[str, object]:
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    params: dict[str, object] = {}
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params[name] = UploadedFile(value.filename, value.content_type, value.file.read())
        else:
            params[name] = value
    return params
