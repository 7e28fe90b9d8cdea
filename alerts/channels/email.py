"""Email channel: one message per alert over SMTP (alerts.mailer), plain text with an HTML part."""

from __future__ import annotations

from typing import ClassVar

from alerts.channels.base import Channel, ChannelContext
from alerts.escape import html_text, link_target
from alerts.mailer import SmtpOptions, send_email
from alerts.message import AlertMessage, inline, plain, truncate
from monitor.core.config import Channel as ChannelSettings
from monitor.core.errors import ConfigError
from monitor.core.records import link_name

EMAIL_TIMEOUT = 20.0  # seconds an SMTP exchange may take unless options.timeout says otherwise


class EmailChannel(Channel):
    """options: to (list, required), sender, smtp_host, smtp_port, smtp_security.

    The SMTP options default to the [digest] settings; the login comes from
    LISTENPOST_SMTP_USER / LISTENPOST_SMTP_PASSWORD when they are set.
    """

    type: ClassVar[str] = "email"
    default_timeout: ClassVar[float | None] = EMAIL_TIMEOUT
    option_names: ClassVar[frozenset[str]] = frozenset(
        {"to", "sender", "smtp_host", "smtp_port", "smtp_security", "timeout"})

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        super().__init__(name, settings, context)
        where = f"alerts.channels.{self.name}.options"
        to = self.option_strings("to", [])
        if not to or not all("@" in a and "\n" not in a for a in to):
            raise ConfigError(f"{where}.to: a list of email addresses is required")
        self.to: list[str] = to
        smtp = context.smtp
        port = self.option("smtp_port", int, smtp.port)
        security = self.option("smtp_security", str, smtp.security)
        if security not in ("starttls", "ssl", "plain"):
            raise ConfigError(f"{where}.smtp_security: must be \"starttls\", \"ssl\" or \"plain\"")
        # The channel's own server options over the [digest] ones; the mailer sends with these.
        self.server = SmtpOptions(
            sender=self.option("sender", str, smtp.sender), host=self.option("smtp_host", str, smtp.host),
            port=port, security=security, timeout=self.option("timeout", float, EMAIL_TIMEOUT),
        )

    def compose(self, message: AlertMessage) -> tuple[str, str, str]:
        """Subject, plain text and HTML of one alert."""
        facts = message.facts(message.byline())
        text = truncate(message.summary or message.text, 4000)
        url = link_target(message.url)
        lines = [inline(message.headline), " · ".join(facts), "", plain(text), ""]
        if url:
            lines.append(url)
        if message.reply_draft:
            lines += ["", "Reply draft (edit, then send it yourself):", plain(message.reply_draft)]
        where = html_text(link_name(message.source, url))
        link = f'<p><a href="{html_text(url)}">Open on {where}</a></p>' if url else ""
        draft = (f"<p><b>Reply draft</b> (edit, then send it yourself):<br>{html_text(message.reply_draft)}</p>"
                 if message.reply_draft else "")
        html = (f"<h3>{html_text(message.headline)}</h3><p>{html_text(' · '.join(facts))}</p>"
                f"<blockquote>{html_text(text)}</blockquote>{link}{draft}")
        # The subject comes from settings and the source name, never from mention text.
        return f"[listenpost] {message.headline}", "\n".join(lines), f"<html><body>{html}</body></html>"

    def send(self, message: AlertMessage) -> str | None:
        subject, text, html = self.compose(message)
        return send_email(self.server, self.to, subject, text, html)
