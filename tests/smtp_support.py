"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) that keeps what it receives."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

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


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1, made by the openssl command (valid for a day)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Credentials:
    """The one account the TLS server accepts, and the sign-ins it saw."""

    username: str
    password: str
    seen: list[str] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (self.username, self.password)
        self.seen.append(f"{mechanism}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok)


@contextmanager
def smtp_server(
    *,
    security: str = "none",
    certificate: tuple[Path, Path] | None = None,
    credentials: Credentials | None = None,
) -> Iterator[SmtpServer]:
    """A running SMTP server on 127.0.0.1 (stopped when the block ends). ``security`` ``starttls``
    or ``tls`` needs ``certificate``; with ``credentials`` the server requires AUTH (after TLS)."""
    inbox = Inbox()
    options: dict[str, Any] = {}
    if security != "none":
        assert certificate is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        if security == "tls":
            options["ssl_context"] = context
        else:
            options |= {"tls_context": context, "require_starttls": True}
    if credentials is not None:
        options |= {"authenticator": credentials, "auth_required": True}
        if security == "tls":
            # aiosmtpd counts only STARTTLS as TLS, so over SMTPS (TLS throughout) it offers AUTH
            # without requiring it; the client signs in all the same (``Credentials.seen``)
            options |= {"auth_require_tls": False, "auth_required": False}
    for _ in range(5):  # a port taken between probing and binding: try another
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
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
