"""Channels against real loopback servers: SMTP (plain, STARTTLS with login), webhooks, Apprise."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from happyface.alarms.config import AppriseChannel, EmailChannel, WebhookChannel
from happyface.alarms.notify import DeliveryError, make_channel
from happyface.alarms.records import Message, Notification, Subject
from tests.fixtures.pki import Pki
from tests.fixtures.smtp import PASSWORD, USER, SmtpServer
from tests.fixtures.webhook import WebhookServer

T = datetime(2024, 3, 5, 2, 45, tzinfo=UTC)


def needs_apprise() -> None:
    if importlib.util.find_spec("apprise") is None:
        pytest.skip("Apprise is not installed (pip install 'happyface[apprise]')")


def notification(ident: int = 7) -> Notification:
    message = Message(
        title="[GridKa] dCache pools (module dcache_pools): unhappy",
        body="dCache pools is unhappy.\n\nWhat to do:\nCheck the pools.\n\nView: https://hf/x",
        link="https://hf/category/storage?at=2024-03-05T02:45:00Z#dcache_pools",
    )
    return Notification(ident, "storage-shift", Subject("module", "dcache_pools"), "unhappy",
                        "c", 12, T, T, message, "pending", "", 0, T, None)  # fmt: skip


def email(server: SmtpServer, **more: object) -> EmailChannel:
    return EmailChannel.model_validate({
        "id": "mail", "type": "email", "host": server.host, "port": server.port,
        "security": "none", "sender": "hf@gridka.example.org", "to": ["a@x.org", "b@x.org"],
        "timeout": 5, **more,
    })  # fmt: skip


async def test_a_mail_reaches_the_smtp_server(smtp_server: SmtpServer) -> None:
    await make_channel(email(smtp_server)).send(notification())
    (mail,) = smtp_server.messages
    assert mail["Subject"] == notification().message.title
    assert mail["X-Envelope-To"] == "a@x.org, b@x.org"
    assert "happyface-alarm-7" in mail["Message-ID"]
    assert "Check the pools." in mail.get_payload(decode=True).decode()


async def test_starttls_and_login_with_the_password_by_reference(
    smtp_tls_server: SmtpServer, pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_SMTP_PASSWORD", PASSWORD)
    channel = email(smtp_tls_server, security="starttls", ca_file=pki.ca_file, username=USER,
                    password={"env": "HF_SMTP_PASSWORD"})  # fmt: skip
    await make_channel(channel).send(notification())
    assert len(smtp_tls_server.messages) == 1
    (tmp_path / "pw").write_text("wrong\n")
    wrong = email(smtp_tls_server, security="starttls", ca_file=pki.ca_file, username=USER,
                  password={"file": str(tmp_path / "pw")}, timeout=2)  # fmt: skip
    with pytest.raises(DeliveryError, match="mail via"):
        await make_channel(wrong).send(notification())


async def test_starttls_refuses_an_unknown_certificate(smtp_tls_server: SmtpServer) -> None:
    channel = email(smtp_tls_server, security="starttls")  # the system CAs do not know ours
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await make_channel(channel).send(notification())


async def test_a_mail_server_that_is_down_is_a_delivery_error(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(DeliveryError, match=r"Connection refused|ConnectionRefused"):
        await make_channel(email(smtp_server)).send(notification())


def webhook(server: WebhookServer, **more: object) -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"id": "hook", "type": "webhook", "url": server.url(), "timeout": 5, **more}
    )


async def test_a_webhook_posts_the_whole_notification(webhook_server: WebhookServer) -> None:
    channel = webhook(webhook_server, headers={"X-Site": "GridKa"})
    await make_channel(channel).send(notification())
    (post,) = webhook_server.posts
    body = post.json()
    assert body["event"] == "unhappy" and body["subject_id"] == "dcache_pools"
    assert body["link"] == notification().message.link
    assert body["text"].startswith("**[GridKa]")
    assert post.headers["X-Site"] == "GridKa"
    assert post.headers["Idempotency-Key"] == "happyface-alarm-7"


async def test_a_text_webhook_suits_mattermost_and_slack(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOOK_TOKEN", "t0k3n")
    channel = webhook(webhook_server, format="text", token={"env": "HF_HOOK_TOKEN"})
    await make_channel(channel).send(notification())
    (post,) = webhook_server.posts
    assert set(post.json()) == {"text"}
    assert post.headers["Authorization"] == "Bearer t0k3n"


async def test_a_failing_webhook_is_a_delivery_error(webhook_server: WebhookServer) -> None:
    webhook_server.failing = True
    with pytest.raises(DeliveryError, match="HTTP 503"):
        await make_channel(webhook(webhook_server)).send(notification())
    webhook_server.stop()
    with pytest.raises(DeliveryError, match="ConnectError"):
        await make_channel(webhook(webhook_server)).send(notification())


async def test_apprise_delivers_through_its_json_and_form_schemas(
    webhook_server: WebhookServer,
) -> None:
    needs_apprise()
    where = f"{webhook_server.host}:{webhook_server.port}"
    channel = AppriseChannel.model_validate(
        {"id": "a", "type": "apprise", "urls": [f"json://{where}/apprise", f"form://{where}/f"]}
    )
    await make_channel(channel).send(notification())
    by_path = {p.path: p for p in webhook_server.posts}
    assert by_path["/apprise"].json()["title"] == notification().message.title
    assert "Check the pools." in by_path["/apprise"].json()["message"]
    assert by_path["/f"].form()["title"] == notification().message.title


async def test_apprise_reports_an_unreachable_service(webhook_server: WebhookServer) -> None:
    needs_apprise()
    webhook_server.stop()
    url = f"json://{webhook_server.host}:{webhook_server.port}/"
    channel = AppriseChannel.model_validate({"id": "a", "type": "apprise", "urls": [url]})
    with pytest.raises(DeliveryError, match="could not deliver"):
        await make_channel(channel).send(notification())
