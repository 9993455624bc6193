"""Channels against real loopback servers: SMTP (plain, STARTTLS with login), webhooks, Apprise."""

from __future__ import annotations

import importlib.util
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from happyface.alarms.notify import DeliveryError, delivery_id, make_channel
from happyface.alarms.records import Message, Notification, Subject
from happyface.alarms.store import AlarmStore
from happyface.config.alarms import AppriseChannel, EmailChannel, WebhookChannel
from happyface.storage import open_store
from tests.fixtures.pki import Pki
from tests.fixtures.smtp import PASSWORD, USER, SmtpServer
from tests.fixtures.webhook import WebhookServer

T = datetime(2024, 3, 5, 2, 45, tzinfo=UTC)
IDENT = "happyface-0f1e2d3c4b5a69788796a5b4c3d2e1f0-7"
TOKEN = "hook-token-3b9d1e77"


def needs_apprise() -> None:
    if importlib.util.find_spec("apprise") is None:
        pytest.fail(
            "Apprise is not installed: pip install 'happyface[apprise]' (scripts/test does)"
        )


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
    await make_channel(email(smtp_server)).send(notification(), IDENT)
    (mail,) = smtp_server.messages
    assert mail["Subject"] == notification().message.title
    assert mail["X-Envelope-To"] == "a@x.org, b@x.org"
    assert mail["Message-ID"] == f"<{IDENT}@gridka.example.org>"
    assert "Check the pools." in mail.get_payload(decode=True).decode()


async def test_starttls_and_login_with_the_password_by_reference(
    smtp_tls_server: SmtpServer, pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_SMTP_PASSWORD", PASSWORD)
    channel = email(smtp_tls_server, security="starttls", ca_file=pki.ca_file, username=USER,
                    password={"env": "HF_SMTP_PASSWORD"})  # fmt: skip
    await make_channel(channel).send(notification(), IDENT)
    assert len(smtp_tls_server.messages) == 1
    (tmp_path / "pw").write_text("wrong\n")
    wrong = email(smtp_tls_server, security="starttls", ca_file=pki.ca_file, username=USER,
                  password={"file": str(tmp_path / "pw")}, timeout=2)  # fmt: skip
    with pytest.raises(DeliveryError) as refused:
        await make_channel(wrong).send(notification(), IDENT)
    # aiosmtpd answers a wrong login late: refused or timed out, said by class either way
    assert refused.value.reason in ("SMTP 535", "timeout")


async def test_starttls_refuses_an_unknown_certificate(smtp_tls_server: SmtpServer) -> None:
    channel = email(smtp_tls_server, security="starttls")  # the system CAs do not know ours
    with pytest.raises(DeliveryError) as refused:
        await make_channel(channel).send(notification(), IDENT)
    assert refused.value.reason == "TLS error"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.detail  # for the log


async def test_a_mail_server_that_is_down_is_a_delivery_error(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(DeliveryError) as down:
        await make_channel(email(smtp_server)).send(notification(), IDENT)
    assert down.value.reason == "connection refused"


def webhook(server: WebhookServer, **more: object) -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"id": "hook", "type": "webhook", "url": server.url(), "timeout": 5, **more}
    )


async def test_a_webhook_posts_the_whole_notification(webhook_server: WebhookServer) -> None:
    channel = webhook(webhook_server, headers={"X-Site": "GridKa"})
    await make_channel(channel).send(notification(), IDENT)
    (post,) = webhook_server.posts
    body = post.json()
    assert body["event"] == "unhappy" and body["subject_id"] == "dcache_pools"
    assert body["link"] == notification().message.link
    assert body["text"].startswith("**[GridKa]")
    assert post.headers["X-Site"] == "GridKa"
    assert post.headers["Idempotency-Key"] == IDENT


async def test_a_text_webhook_suits_mattermost_and_slack(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HOOK_TOKEN", "t0k3n")
    channel = webhook(webhook_server, format="text", token={"env": "HF_HOOK_TOKEN"})
    await make_channel(channel).send(notification(), IDENT)
    (post,) = webhook_server.posts
    assert set(post.json()) == {"text"}
    assert post.headers["Authorization"] == "Bearer t0k3n"


async def test_a_failing_webhook_is_a_delivery_error(webhook_server: WebhookServer) -> None:
    webhook_server.failing = True
    with pytest.raises(DeliveryError) as failing:
        await make_channel(webhook(webhook_server)).send(notification(), IDENT)
    assert failing.value.reason == "HTTP 503"
    webhook_server.stop()
    with pytest.raises(DeliveryError) as down:
        await make_channel(webhook(webhook_server)).send(notification(), IDENT)
    assert down.value.reason == "connection refused"


async def test_a_webhook_error_names_neither_the_token_nor_the_answer(
    webhook_server: WebhookServer,
) -> None:
    webhook_server.error_status = 404  # its page quotes the path and query it was called with
    url = webhook_server.url(f"/hooks/{TOKEN}?key={TOKEN}-q")
    channel = WebhookChannel.model_validate({"id": "hook", "type": "webhook", "url": url})
    with pytest.raises(DeliveryError) as failing:
        await make_channel(channel).send(notification(), IDENT)
    assert (str(failing.value), failing.value.detail) == ("HTTP 404", "HTTP 404")
    # the receiver's page quoted this path, token and all; none of it is in the error
    assert webhook_server.attempts[0].path == f"/hooks/{TOKEN}?key={TOKEN}-q"


async def test_a_hanging_webhook_times_out_within_its_deadline(
    webhook_server: WebhookServer,
) -> None:
    webhook_server.hang_seconds = 5.0
    channel = webhook(webhook_server, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as hung:
        await make_channel(channel).send(notification(), IDENT)
    assert hung.value.reason == "timeout" and time.monotonic() - started < 2


async def test_a_bad_webhook_url_is_explained_without_its_credentials() -> None:
    url = f"ftp://user:{TOKEN}@files.example.org/{TOKEN}?sig={TOKEN}"
    channel = WebhookChannel.model_validate({"id": "hook", "type": "webhook", "url": url})
    with pytest.raises(DeliveryError) as bad:
        await make_channel(channel).send(notification(), IDENT)
    assert bad.value.reason == "invalid URL"
    assert TOKEN not in bad.value.detail and "ftp://" in bad.value.detail


def test_identifiers_come_from_a_random_key_kept_in_the_database(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two", "one"):  # two sites (or a reset), and one of them reopened
        store = open_store(f"sqlite:///{tmp_path / name}.db")
        try:
            keys.append(AlarmStore(store).site_key())
        finally:
            store.close()
    assert keys[0] == keys[2] != keys[1]
    assert delivery_id(keys[0], 7) == f"happyface-{keys[0]}-7" != delivery_id(keys[1], 7)


async def test_apprise_delivers_through_its_json_and_form_schemas(
    webhook_server: WebhookServer,
) -> None:
    needs_apprise()
    where = f"{webhook_server.host}:{webhook_server.port}"
    channel = AppriseChannel.model_validate(
        {"id": "a", "type": "apprise", "urls": [f"json://{where}/apprise", f"form://{where}/f"]}
    )
    await make_channel(channel).send(notification(), IDENT)
    by_path = {p.path: p for p in webhook_server.posts}
    assert by_path["/apprise"].json()["title"] == notification().message.title
    assert "Check the pools." in by_path["/apprise"].json()["message"]
    assert by_path["/f"].form()["title"] == notification().message.title


async def test_apprise_reports_an_unreachable_service(webhook_server: WebhookServer) -> None:
    needs_apprise()
    webhook_server.stop()
    url = f"json://{webhook_server.host}:{webhook_server.port}/"
    channel = AppriseChannel.model_validate({"id": "a", "type": "apprise", "urls": [url]})
    with pytest.raises(DeliveryError) as down:
        await make_channel(channel).send(notification(), IDENT)
    assert down.value.reason.startswith("Apprise could not deliver")


async def test_apprise_errors_show_no_part_of_its_urls(webhook_server: WebhookServer) -> None:
    needs_apprise()
    webhook_server.error_status = 404
    where = f"{webhook_server.host}:{webhook_server.port}"
    url = f"json://apprise-user:{TOKEN}@{where}/{TOKEN}/path?sig={TOKEN}"
    channel = AppriseChannel.model_validate({"id": "a", "type": "apprise", "urls": [url]})
    with pytest.raises(DeliveryError) as failing:
        await make_channel(channel).send(notification(), IDENT)
    assert failing.value.reason == "Apprise could not deliver: HTTP 404"
    said = f"{failing.value.reason} {failing.value.detail}"
    assert TOKEN not in said and "apprise-user" not in said and "No hook at" not in said
