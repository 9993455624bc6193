"""The sentence a rule gives when it fires: its own message, or "metric = value (op threshold)".

Numbers in a reason are shown with as many digits as it takes to tell the value from the
threshold it crossed, both the same way: "0.3004 (> 0.3)", never "30% > 30%".
"""

from __future__ import annotations

import math
from typing import Any

#: significant digits a number in a reason shows at least
MIN_DIGITS = 3
#: beyond this a float has no more digits to show
MAX_DIGITS = 17

PLACEHOLDERS = ("metric", "value", "threshold", "op", "match")


class Shown(float):
    """A number in a reason: formatted as a message's spec says, else with its pair's digits."""

    text: str

    def __new__(cls, value: float, text: str) -> Shown:
        number = super().__new__(cls, value)
        number.text = text
        return number

    def __format__(self, spec: str) -> str:
        return self.text if not spec else float.__format__(self, spec)

    def __str__(self) -> str:
        return self.text


def shown_pair(value: float, threshold: float) -> tuple[Shown, Shown]:
    """The value and the threshold, written with the same digits, enough to tell them apart."""
    digits = max(MIN_DIGITS, _whole_digits(value), _whole_digits(threshold))
    while True:
        texts = _written(value, digits), _written(threshold, digits)
        if texts[0] != texts[1] or value == threshold or digits >= MAX_DIGITS:
            return Shown(value, texts[0]), Shown(threshold, texts[1])
        digits += 1


def default_text(metric: str, op: str, value: Shown, threshold: Shown) -> str:
    """The reason of a rule without a message of its own."""
    return f"{metric} = {value} ({op} {threshold})"


def expand(message: str, **fields: Any) -> str:
    """A rule's own message with its placeholders filled in."""
    return message.format(**fields)


def message_problem(message: str) -> str | None:
    """Why this message cannot be expanded, or None when it can (checked when the rule is built)."""
    sample = Shown(0.5, "0.5")
    try:
        expand(message, metric="m", value=sample, threshold=sample, op=">", match="m")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        return f"message {message!r} cannot be filled in ({exc!r}); it may use {known}"
    return None


def _whole_digits(number: float) -> int:
    """Digits before the decimal point, so that whole numbers are never cut to an exponent."""
    if not math.isfinite(number) or abs(number) < 1:
        return 0
    return min(MAX_DIGITS, len(f"{abs(number):.0f}"))


def _written(number: float, digits: int) -> str:
    return f"{number:.{digits}g}"
