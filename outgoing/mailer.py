"""Outgoing e-mail (R9, R10 codes): a Mailer protocol, an SMTP sender and two demo stand-ins."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Protocol, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

if TYPE_CHECKING:
    from foundation.settings import Settings

__all__ = [
    "ConsoleMailer",
    "Mail",
    "MailboxMailer",
    "Mailer",
    "SmtpMailer",
    "mailer_from_settings",
]


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str) -> None:
        """Delivers one plain-text mail; raises if it could not be handed over."""
        ...


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


class SmtpMailer:
    """Sends through an SMTP server named by a URL.

    `smtp://[user:pass@]host[:port]` (port 25; STARTTLS is used when the server
    offers it), `smtps://[user:pass@]host[:port]` (TLS from the start, port 465).
    The sender address comes from a `?from=` parameter, else from a user name that
    is an address, else `cetbot@<host>`.
    """

    def __init__(self, smtp_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(smtp_url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL: {smtp_url!r}")
        self.use_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        query_from = parse_qs(parts.query).get("from")
        if query_from:
            self.sender = query_from[0]
        elif self.username and "@" in self.username:
            self.sender = self.username
        else:
            self.sender = f"cetbot@{self.hostname}"

    def __repr__(self) -> str:
        # Never show the password (this object ends up in logs and tracebacks).
        scheme = "smtps" if self.use_tls else "smtp"
        return f"SmtpMailer({scheme}://{self.hostname}:{self.port}, sender={self.sender!r})"

    def build(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        # Chinese text: the policy picks UTF-8 and a safe transfer encoding.
        msg.set_content(body)
        return msg

    async def send(self, to: str, subject: str, body: str) -> None:
        await aiosmtplib.send(
            self.build(to, subject, body),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=self.timeout,
        )


class ConsoleMailer:
    """Prints each mail instead of sending it: the demo default without SMTP_URL."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, to: str, subject: str, body: str) -> None:
        out = self._stream or sys.stdout
        out.write(f"--- mail to {to}\nSubject: {subject}\n\n{body}\n---\n")
        out.flush()


@dataclass
class MailboxMailer:
    """Keeps every mail in memory, in order; the demo emulator page reads `messages`."""

    messages: list[Mail] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.messages.append(Mail(to=to, subject=subject, body=body))

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.messages if m.to == address]


def mailer_from_settings(settings: Settings) -> Mailer:
    """SMTP when SMTP_URL is set; `mailbox:` keeps mails in memory; otherwise the console."""
    url = (settings.smtp_url or "").strip()
    if not url:
        return ConsoleMailer()
    if url.split(":", 1)[0] == "mailbox":
        return MailboxMailer()
    return SmtpMailer(url)
