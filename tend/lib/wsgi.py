"""WSGI glue between Django and gunicorn: close a connection whose request body was not read.

When a view refuses a request before reading its body (413 too large, 401 unknown key, 429
rate limited), the unread bytes are still on the connection. gunicorn drains at most 64 KB of
them and otherwise drops the connection, after a response that announced ``keep-alive``: the
client's next request on it fails. An application may not send ``Connection: close`` itself
(PEP 3333 forbids hop-by-hop headers; Django's development server asserts on it and gunicorn
drops it), so this wrapper asks gunicorn to close instead: its response then says
``Connection: close`` and the client opens a new connection. Other servers are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _CountedInput:
    """``wsgi.input`` that remembers how many bytes were read and whether it reached the end."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.read_bytes = 0
        self.at_end = False

    def read(self, size: int | None = None, *args: Any) -> bytes:
        whole = size is None or size < 0
        data = self.stream.read() if whole else self.stream.read(size, *args)
        self.read_bytes += len(data)
        self.at_end = self.at_end or whole or not data
        return bytes(data)

    def readline(self, size: int | None = None, *args: Any) -> bytes:
        data = self.stream.readline(size, *args) if size is not None else self.stream.readline()
        self.read_bytes += len(data)
        self.at_end = self.at_end or not data
        return data

    def readlines(self, hint: int | None = None) -> list[bytes]:
        lines = self.stream.readlines(hint) if hint is not None else self.stream.readlines()
        self.read_bytes += sum(len(line) for line in lines)
        self.at_end = self.at_end or hint is None
        return list(lines)

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.read_bytes += len(line)
            yield line
        self.at_end = True


def _unread(environ: dict[str, Any], body: _CountedInput) -> bool:
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit():
        return body.read_bytes < int(declared)
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked and not body.at_end


def close_when_body_unread(app: WSGIApp) -> WSGIApp:
    """``app``, asking gunicorn to close the connection after a response that left the request
    body (or part of it) unread."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _CountedInput(environ["wsgi.input"])
        environ["wsgi.input"] = body

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # gunicorn passes its Response's bound start_response; force_close() makes it
            # answer "Connection: close" and close the socket gracefully after this response.
            force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
            if force_close is not None and _unread(environ, body):
                force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped
