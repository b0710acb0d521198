"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that keeps what it receives."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from benzokit.service.mailer import SmtpMailer, SmtpSettings

SENDER = "clinic@example.org"


@dataclass
class Inbox:
    """What the server received: one parsed message per delivery (with its envelope recipients)."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox

    def settings(self) -> SmtpSettings:
        return SmtpSettings.create(
            host="127.0.0.1", sender=SENDER, port=self.port, security="none", timeout_s=10
        )

    def mailer(self) -> SmtpMailer:
        return SmtpMailer(self.settings())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1 (stopped when the block ends)."""
    inbox = Inbox()
    for _ in range(5):  # a port taken between probing and binding: try another
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            time.sleep(0.1)
            continue
        try:
            yield SmtpServer(port, inbox)
        finally:
            controller.stop()
        return
    raise RuntimeError("no free port for the test SMTP server")
