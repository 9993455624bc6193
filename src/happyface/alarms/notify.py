"""Channels: deliver one notification by e-mail (SMTP), webhook (JSON POST) or Apprise.

Each delivery carries the notification's identifier (`delivery_id`): the mail's Message-ID and
the webhook's Idempotency-Key, equal for every attempt of one notification, so a receiver can
tell a retry from a new notice. A failure is raised as a DeliveryError with a classified reason;
nothing a receiver answers and no URL with credentials reaches it.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import warnings
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from ..config.alarms import AppriseChannel, EmailChannel, WebhookChannel
from ..errors import ConfigError
from ..redact import redact, url_secrets
from ..sources import SecretRef
from .failures import DeliveryError, http_status_reason, network_reason, smtp_reason
from .records import Notification

__all__ = ["Channel", "DeliveryError", "delivery_id", "make_channel"]


class Channel(Protocol):
    """Anything that delivers a notification, or raises DeliveryError saying why not."""

    async def send(self, notification: Notification, ident: str) -> None:
        """Deliver `notification`; `ident` (from `delivery_id`) is the same on every retry."""
        ...


def delivery_id(site_key: str, notification_id: int) -> str:
    """The identifier of one notification: the site's random key (stored in its database) and
    the log entry's id, so it repeats neither across sites nor after a database reset."""
    return f"happyface-{site_key}-{notification_id}"


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
        raise DeliveryError(f"secret not available: {exc.problems[0]}") from exc


@dataclass
class EmailSender:
    """Mails through an SMTP server, with STARTTLS or implicit TLS and a login if configured."""

    config: EmailChannel

    async def send(self, notification: Notification, ident: str) -> None:
        mail = self.mail(notification, ident)
        password = _secret(self.config.password) if self.config.password else None
        try:
            # smtplib blocks; a thread keeps the run's event loop free meanwhile
            await asyncio.to_thread(self._deliver, mail, password)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            where = f"{self.config.host}:{self.config.port}"
            detail = f"mail via {where}: {type(exc).__name__}: {exc}"
            raise DeliveryError(smtp_reason(exc), redact(detail, [password or ""])) from exc

    def mail(self, notification: Notification, ident: str) -> EmailMessage:
        """The e-mail for a notification; its Message-ID is the notification's identifier."""
        mail = EmailMessage()
        mail["Subject"] = notification.message.title
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(notification.created_at.timestamp())
        domain = self.config.sender.rpartition("@")[2] or "happyface"
        mail["Message-ID"] = f"<{ident}@{domain}>"
        mail["X-HappyFace-Event"] = notification.event
        mail.set_content(notification.message.body)
        return mail

    def _deliver(self, mail: EmailMessage, password: str | None) -> None:
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
            if config.username is not None and password is not None:
                smtp.login(config.username, password)
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

    async def send(self, notification: Notification, ident: str) -> None:
        config = self.config
        url = _secret(config.url)
        token = _secret(config.token) if config.token is not None else ""
        headers = {**config.headers, "Idempotency-Key": ident}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        secrets = [*url_secrets(url), token, *config.headers.values()]
        try:
            response = await self._post(url, self.payload(notification), headers)
        except (httpx.HTTPError, TimeoutError) as exc:
            detail = f"webhook {type(exc).__name__}: {exc}"
            raise DeliveryError(network_reason(exc), redact(detail, secrets)) from exc
        if response.status_code >= 300:
            # the answer's body stays out of every message: an error page may quote the URL
            raise DeliveryError(http_status_reason(response.status_code))

    async def _post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        config = self.config
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=config.ca_file) if config.ca_file else True
        )
        # `timeout` is the deadline of the whole delivery, not of each read
        async with (
            asyncio.timeout(config.timeout),
            httpx.AsyncClient(timeout=config.timeout, verify=verify) as client,
        ):
            return await client.post(url, json=payload, headers=headers)


@dataclass
class AppriseSender:
    """Hands the notification to Apprise, which knows many services by their URL."""

    config: AppriseChannel

    async def send(self, notification: Notification, ident: str) -> None:
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
                raise DeliveryError(f"Apprise does not understand the URL {redact(url)}")
        with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
            if not sender.notify(body=body, title=title):
                said = " ".join(captured.getvalue().split())[-300:] or "no reason given"
                secrets = [s for url in urls for s in url_secrets(url)]
                raise DeliveryError(_apprise_reason(said), redact(f"Apprise: {said}", secrets))


def _apprise_reason(said: str) -> str:
    """A classified reason from what Apprise logged: its HTTP code, or the network's trouble."""
    lowered = said.lower()
    for marker in ("error code ", "error=", "error "):
        tail = lowered.partition(marker)[2][:3]
        if marker in lowered and tail.isdigit():
            return f"Apprise could not deliver: HTTP {tail}"
    return f"Apprise could not deliver: {network_reason(Exception(said))}"
