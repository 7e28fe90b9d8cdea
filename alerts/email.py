"""Email channel: one message per alert over SMTP (smtplib), plain text with an HTML part."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar

from alerts.base import AlertMessage, Channel, ago, plain, truncate
from alerts.escape import html_text, link_target
from alerts.slack import stars
from monitor.config import secret
from monitor.errors import ChannelError, ConfigError


class EmailChannel(Channel):
    """options: to (list, required), sender, smtp_host, smtp_port, smtp_security.

    The SMTP options default to the [digest] settings; the login comes from
    LISTENPOST_SMTP_USER / LISTENPOST_SMTP_PASSWORD when they are set.
    """

    type: ClassVar[str] = "email"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        where = f"alerts.channels.{self.name}.options"
        to = self.options.get("to")
        if isinstance(to, str):
            to = [to]
        if not to or not all(isinstance(a, str) and "@" in a and "\n" not in a for a in to):
            raise ConfigError(f"{where}.to: a list of email addresses is required")
        self.to: list[str] = to
        digest = self.app.digest
        self.sender = str(self.options.get("sender", digest.sender))
        self.host = str(self.options.get("smtp_host", digest.smtp_host))
        port = self.options.get("smtp_port", digest.smtp_port)
        if not isinstance(port, int) or isinstance(port, bool):
            raise ConfigError(f"{where}.smtp_port: expected an integer, got {port!r}")
        self.port = port
        self.security = str(self.options.get("smtp_security", digest.smtp_security))
        if self.security not in ("starttls", "ssl", "plain"):
            raise ConfigError(f"{where}.smtp_security: must be \"starttls\", \"ssl\" or \"plain\"")

    def compose(self, message: AlertMessage) -> EmailMessage:
        facts = [f"{plain(message.author) or 'unknown author'} on {message.source}",
                 message.history_line(), f"posted {ago(message.created_at)}"]
        if message.negative is not None:
            facts.append(f"negative {message.negative:.2f}")
        if message.rating:
            facts.append(stars(message.rating))
        text = truncate(message.extra.get("text") or message.text, 4000)
        url = link_target(message.url)
        lines = [message.headline, " · ".join(facts), "", plain(text), ""]
        if url:
            lines.append(url)
        if message.reply_draft:
            lines += ["", "Reply draft (edit, then send it yourself):", plain(message.reply_draft)]
        body = "\n".join(lines)
        link = f'<p><a href="{html_text(url)}">Open on {html_text(message.source)}</a></p>' if url else ""
        draft = (f"<p><b>Reply draft</b> (edit, then send it yourself):<br>{html_text(message.reply_draft)}</p>"
                 if message.reply_draft else "")
        html = (f"<h3>{html_text(message.headline)}</h3><p>{html_text(' · '.join(facts))}</p>"
                f"<blockquote>{html_text(text)}</blockquote>{link}{draft}")
        mail = EmailMessage()
        # Header values come from settings and the source name, never from mention text.
        mail["Subject"] = " ".join(f"[listenpost] {message.headline}".split())
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(f"alert{message.alert_id}")
        mail.set_content(body)
        mail.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
        return mail

    def send(self, message: AlertMessage) -> str | None:
        mail = self.compose(message)
        user, password = secret("SMTP_USER"), secret("SMTP_PASSWORD")
        timeout = float(self.options.get("timeout", 20))
        try:
            if self.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
            with smtp:
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if user and password:
                    smtp.login(user, password)
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            # 5xx replies (bad address, auth refused) fail the same way next time; 4xx are transient.
            raise ChannelError(f"SMTP {self.host}:{self.port}: {exc.smtp_code} {exc.smtp_error!r}",
                               permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: recipients refused: {list(exc.recipients)}",
                               permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from None
        return str(mail["Message-ID"])
