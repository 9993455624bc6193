"""Redaction: what may be shown of a channel URL, and secrets blotted out of any text."""

from __future__ import annotations

import pytest

from happyface.redact import redact, redact_url, url_secrets

TOKEN = "T0KEN-5f3a9c"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://chat.example.org/hooks/{TOKEN}", "https://chat.example.org/…"),
        (f"https://bot:{TOKEN}@chat.example.org:8443/?token={TOKEN}", "https://chat.example.org:8443/…"),
        ("https://chat.example.org/", "https://chat.example.org/"),
        (f"http://[::1]:8080/h?k={TOKEN}", "http://[::1]:8080/…"),
        (f"tgram://{TOKEN}/12345", "tgram://…"),  # Apprise: the "host" is the bot token
        (f"mailto://ops:{TOKEN}@gmail.com", "mailto://…"),
        ("https://host:notaport/x", "…"),
        (TOKEN, "…"),
    ],
)  # fmt: skip
def test_a_url_shows_at_most_scheme_host_and_port(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_url_in_a_text_is_reduced() -> None:
    text = f"POST https://u:{TOKEN}@h.example/x?sig={TOKEN} failed; retry json://{TOKEN}@h/p"
    assert redact(text) == "POST https://h.example/… failed; retry json://…"


def test_secrets_are_blotted_out_as_written_and_percent_encoded() -> None:
    url = f"https://h.example/hooks/{TOKEN}?key=a+b/{TOKEN}"
    page = f"404: no hook {TOKEN} (key a%2Bb%2F{TOKEN}), path /hooks/{TOKEN}"
    cleaned = redact(page, url_secrets(url))
    assert TOKEN not in cleaned and "404: no hook …" in cleaned


def test_short_common_pieces_are_left_alone() -> None:
    assert redact("the api answered", url_secrets("https://h/api/x")) == "the api answered"
