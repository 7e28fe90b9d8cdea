"""Email over SMTP (STARTTLS, SSL or plain) for the digest and the email channel.

The server comes as SmtpOptions (``[digest]``'s, or an email channel's own); the login from
LISTENPOST_SMTP_USER / _PASSWORD.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from monitor.core.config import Digest, secret
from monitor.core.errors import ChannelError, ConfigError, MissingCredential

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpOptions:
    """The SMTP server a message goes through, and who it is from."""

    sender: str
    host: str
    port: int
    security: str  # "starttls", "ssl" or "plain"
    timeout: float

    @classmethod
    def of(cls, digest: Digest) -> SmtpOptions:
        """The server named under [digest]."""
        return cls(sender=digest.sender, host=digest.smtp_host, port=digest.smtp_port,
                   security=digest.smtp_security, timeout=digest.smtp_timeout)


def build_message(
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> EmailMessage:
    """text/plain, plus an HTML alternative whose PNG images travel as CID parts beside it.

    ``images`` maps a content id (``chart-1@listenpost``) to PNG bytes; the HTML refers to
    each as ``cid:chart-1@listenpost``.
    """
    message = EmailMessage()
    message["Subject"] = " ".join(subject.split())  # a newline in a header would start a new one
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "listenpost")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        html_part = typing.cast(list[EmailMessage], message.get_payload())[1]
        for cid, data in (images or {}).items():
            html_part.add_related(data, maintype="image", subtype="png", cid=f"<{cid}>",
                                  filename=f"{cid.partition('@')[0]}.png", disposition="inline")
    return message


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _login(environ: Mapping[str, str] | None) -> tuple[str, str] | None:
    user, password = secret("SMTP_USER", environ), secret("SMTP_PASSWORD", environ)
    if user and not password:
        raise MissingCredential("SMTP login", "LISTENPOST_SMTP_PASSWORD")
    if password and not user:
        raise MissingCredential("SMTP login", "LISTENPOST_SMTP_USER")
    return (user, password) if user and password else None


def _connect(server: SmtpOptions) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if server.security == "ssl":
        return smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    if server.security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def send_email(
    server: SmtpOptions,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Send one message to ``to`` through the configured SMTP server; returns its Message-ID.

    Raises ChannelError (``permanent`` when the server rejected the message or the login,
    so retrying would not help) or ConfigError for settings that cannot work.
    """
    if not to:
        raise ConfigError("no recipients: set digest.recipients (or the channel's recipients)")
    login = _login(environ)
    if login and server.security == "plain" and not _is_loopback(server.host):
        raise ConfigError("digest.smtp_security = \"plain\" would send the SMTP password unencrypted"
                          f" to {server.host}; use \"starttls\" or \"ssl\"")
    message = build_message(server.sender, to, subject, text, html, images)
    where = f"SMTP server {server.host}:{server.port} ({server.security})"
    try:
        with _connect(server) as smtp:
            if login:
                smtp.login(*login)
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ChannelError(f"{where}: login refused ({exc.smtp_code})", permanent=True) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"{where}: every recipient was refused: {_codes(exc.recipients)}",
                           permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        raise ChannelError(f"{where}: {exc.smtp_code} {reply}",
                           permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ChannelError(f"{where}: {exc} (check digest.smtp_security)", permanent=True) from None
    except ssl.SSLError as exc:
        raise ChannelError(f"{where}: TLS failed: {exc.reason or exc}", permanent=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"{where}: cannot deliver: {exc or type(exc).__name__}") from None
    if refused:
        # Delivered to the others: report it, but a retry would send them a second copy.
        log.warning("%s: some recipients were refused: %s", where, _codes(refused))
    return typing.cast(str, message["Message-ID"])


def _codes(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{to} ({code})" for to, (code, _) in refused.items())
