"""Channels: deliver one notification by e-mail (SMTP), webhook (JSON POST) or Apprise."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

import httpx

from ..errors import ConfigError, HappyFaceError
from ..sources import SecretRef
from .config import AppriseChannel, EmailChannel, WebhookChannel
from .records import Notification


class DeliveryError(HappyFaceError):
    """Raised when a channel could not deliver a notification; it is retried later."""


class Channel(Protocol):
    """Anything that delivers a notification, or raises DeliveryError saying why not."""

    async def send(self, notification: Notification) -> None: ...


def make_channel(config: EmailChannel | WebhookChannel | AppriseChannel) -> Channel:
    """The channel a `[[channel]]` entry describes."""
    if isinstance(config, EmailChannel):
        return EmailSender(config)
    if isinstance(config, WebhookChannel):
        return WebhookSender(config)
    return AppriseSender(config)


def _secret(value: str | SecretRef) -> str:
    try:
        return value.resolve() if isinstance(value, SecretRef) else value
    except ConfigError as exc:
        raise DeliveryError(exc.problems[0]) from exc


@dataclass
class EmailSender:
    """Mails through an SMTP server, with STARTTLS or implicit TLS and a login if configured."""

    config: EmailChannel

    async def send(self, notification: Notification) -> None:
        mail = self.mail(notification)
        try:
            # smtplib blocks; a thread keeps the run's event loop free meanwhile
            await asyncio.to_thread(self._deliver, mail)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            where = f"{self.config.host}:{self.config.port}"
            raise DeliveryError(f"mail via {where}: {type(exc).__name__}: {exc}") from exc

    def mail(self, notification: Notification) -> EmailMessage:
        """The e-mail for a notification; its Message-ID is derived from the log entry."""
        mail = EmailMessage()
        mail["Subject"] = notification.message.title
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(notification.created_at.timestamp())
        # the same log entry always gets the same id, so a retry shows up as one mail
        domain = self.config.sender.rpartition("@")[2] or "happyface"
        mail["Message-ID"] = make_msgid(f"happyface-alarm-{notification.id}", domain=domain)
        mail["X-HappyFace-Event"] = notification.event
        mail.set_content(notification.message.body)
        return mail

    def _deliver(self, mail: EmailMessage) -> None:
        config = self.config
        context = ssl.create_default_context(cafile=config.ca_file)
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username is not None and config.password is not None:
                smtp.login(config.username, _secret(config.password))
            smtp.send_message(mail)


@dataclass
class WebhookSender:
    """POSTs JSON: the whole notification, or `{"text": ...}` for Mattermost and Slack."""

    config: WebhookChannel

    def payload(self, notification: Notification) -> dict[str, Any]:
        """The JSON body of the POST."""
        message = notification.message
        text = f"**{message.title}**\n{message.body}"
        if self.config.format == "text":
            return {"text": text}
        return {
            "text": text,
            "title": message.title,
            "body": message.body,
            "link": message.link,
            "event": notification.event,
            "alarm": notification.alarm_id,
            "subject_kind": notification.subject.kind,
            "subject_id": notification.subject.id,
            "run_id": notification.run_id,
            "run_time": notification.run_time.isoformat(),
            "notification_id": notification.id,
        }

    async def send(self, notification: Notification) -> None:
        config = self.config
        headers = {**config.headers, "Idempotency-Key": f"happyface-alarm-{notification.id}"}
        if config.token is not None:
            headers["Authorization"] = f"Bearer {_secret(config.token)}"
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=config.ca_file) if config.ca_file else True
        )
        url = _secret(config.url)
        try:
            async with httpx.AsyncClient(timeout=config.timeout, verify=verify) as client:
                response = await client.post(url, json=self.payload(notification), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(
                f"webhook answered HTTP {response.status_code}: {response.text[:200]}"
            )


@dataclass
class AppriseSender:
    """Hands the notification to Apprise, which knows many services by their URL."""

    config: AppriseChannel

    async def send(self, notification: Notification) -> None:
        try:
            with warnings.catch_warnings():
                # Apprise imports modules the standard library deprecates; not our concern here
                warnings.simplefilter("ignore", DeprecationWarning)
                import apprise
        except ImportError:
            raise DeliveryError(
                "Apprise is not installed; install it with `pip install 'happyface[apprise]'`"
            ) from None
        urls = [_secret(u) for u in self.config.urls]
        message = notification.message
        await asyncio.to_thread(self._notify, apprise, urls, message.title, message.body)

    @staticmethod
    def _notify(apprise: Any, urls: list[str], title: str, body: str) -> None:
        with warnings.catch_warnings():
            # Apprise loads its plugins lazily, some of which import deprecated stdlib modules
            warnings.simplefilter("ignore", DeprecationWarning)
            AppriseSender._notify_quietly(apprise, urls, title, body)

    @staticmethod
    def _notify_quietly(apprise: Any, urls: list[str], title: str, body: str) -> None:
        sender = apprise.Apprise()
        for url in urls:
            if not sender.add(url):
                raise DeliveryError(f"Apprise does not understand the URL {url.split(':')[0]}://…")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
            if not sender.notify(body=body, title=title):
                reason = " ".join(captured.getvalue().split())[-300:] or "no reason given"
                raise DeliveryError(f"Apprise could not deliver: {reason}")
