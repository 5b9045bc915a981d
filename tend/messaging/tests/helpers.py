"""Real servers for the outbox tests: an SMTP server (aiosmtpd) whose answer to RCPT TO a test
chooses (accept, refuse for good with 550, refuse for now with 451), and an HTTP server in a
thread that records webhook calls and answers with the status a test chooses."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dj_email_url
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    """What the SMTP server received; ``rcpt_reply`` is its answer to RCPT TO per address
    (default "250 OK")."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rcpt_reply: dict[str, str] = {}
        self.default_reply = "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self.rcpt_reply.get(address.lower(), self.default_reply)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Message accepted for delivery"

    def to(self) -> list[str]:
        return sorted(to for _from, tos in self.envelopes for to in tos)


def point_django_at(settings: Any, port: int) -> None:
    """Django's email settings exactly as ``TEND_EMAIL_URL=smtp://127.0.0.1:<port>`` sets them."""
    parsed = dj_email_url.parse(f"smtp://127.0.0.1:{port}")
    settings.EMAIL_BACKEND = parsed["EMAIL_BACKEND"]
    settings.EMAIL_HOST = parsed["EMAIL_HOST"]
    settings.EMAIL_PORT = parsed["EMAIL_PORT"]
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False


@contextmanager
def smtp_server(settings: Any) -> Iterator[Inbox]:
    """A real SMTP server on localhost with Django pointed at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        point_django_at(settings, port)
        yield inbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    """What the webhook server received; ``statuses`` are its next answers (then 200)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    url: str = ""


@contextmanager
def webhook_server() -> Iterator[Receiver]:
    """An HTTP server in a thread that records each POST (headers and body)."""
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                receiver.calls.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            answer = json.dumps({"received": True, "status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tend"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
