"""Reads Bot API parameters from query strings, JSON, url-encoded and multipart bodies."""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from emulator.errors import ApiError


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """Typed access to request parameters; form values are strings, JSON values are native.

    The methods are named after the types they return, so below `def str` the annotations
    spell the built-in types as `builtins.str` (a bare `str` there would name the method).
    """

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.uploads

    def str(self, name: str, *, empty: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if empty is not None:
                raise ApiError(400, empty)
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def int(self, name: builtins.str, *, empty: builtins.str | None = None) -> builtins.int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if empty is not None:
                raise ApiError(400, empty)
            return None
        if isinstance(value, bool):
            raise ApiError(400, f"Bad Request: invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def float(self, name: builtins.str) -> builtins.float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def bool(self, name: builtins.str) -> builtins.bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in ("true", "1", "yes")

    def json(self, name: builtins.str, *, error: builtins.str | None = None) -> Any:
        """Nested objects arrive as JSON strings inside forms and as objects in JSON bodies."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            raise ApiError(400, error or f"Bad Request: can't parse {name} JSON object") from None

    def file(self, name: builtins.str) -> Upload | builtins.str | None:
        """An uploaded part (direct or via attach://) or the string (file_id / URL) given."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.str(name)
        if value is None:
            return None
        if value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise ApiError(400, f"Bad Request: file {value} not found in the request")
            return upload
        return value


async def read_params(request: web.Request, max_upload: int) -> Params:
    """Collect parameters the way Telegram does: query string plus whatever body was sent."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: can't parse JSON request body") from None
            if isinstance(body, dict):
                values.update(body)
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if len(data) > max_upload:
                    raise ApiError(413, "Request Entity Too Large")
                if part.filename is not None:
                    uploads[part.name] = Upload(
                        part.filename,
                        part.headers.get("Content-Type"),
                        bytes(data),
                    )
                else:
                    values[part.name] = bytes(data).decode("utf-8", "replace")
        else:
            # url-encoded forms (aiogram without files, PTB without files)
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    values[key] = value
    return Params(values, uploads)
