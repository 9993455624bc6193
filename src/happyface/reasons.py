"""The sentence a rule gives when it fires: its own message, or "metric is value, above the limit".

Numbers in a reason are written in the metric's unit (`54 %`, `1.5 TB`, `2 h 10 min`) with as
much detail as it takes to tell the value from the threshold it crossed: "30.04 %, above the
limit of 30 %", never "30% > 30%" — also where a message formats them itself (`{value:.0%}`).
"""

from __future__ import annotations

import re
from typing import Any

from .units import distinct

PLACEHOLDERS = ("metric", "value", "threshold", "op", "match", "summary")
#: how the default reason says which side of its threshold a value is
RELATIONS = {
    ">": "above the limit of",
    ">=": "at or above the limit of",
    "<": "below the limit of",
    "<=": "at or below the limit of",
    "==": "equal to",
    "!=": "not equal to",
}
_PRECISION = re.compile(r"\.(\d+)")
#: a format spec gets no more decimals than this while telling a pair apart
MAX_DECIMALS = 12


class Shown(float):
    """A number in a reason: formatted as a message's spec says, else with its pair's digits."""

    text: str
    #: the number it is compared with (the threshold of a value, the value of a threshold)
    pair: float | None

    def __new__(cls, value: float, text: str, pair: float | None = None) -> Shown:
        number = super().__new__(cls, value)
        number.text = text
        number.pair = pair
        return number

    def __format__(self, spec: str) -> str:
        if not spec:
            return self.text
        # a message's own spec ({value:.0%}) gets the decimals that tell the pair apart
        while True:
            mine = float.__format__(self, spec)
            if self.pair is None or float(self) == self.pair:
                return mine
            if mine != float.__format__(self.pair, spec):
                return mine
            precision = _PRECISION.search(spec)
            digits = int(precision.group(1)) if precision else 0
            if digits >= MAX_DECIMALS:
                return mine
            spec = (
                _PRECISION.sub(f".{digits + 1}", spec, count=1)
                if precision
                else re.sub(r"([a-zA-Z%]?)$", rf".{digits + 1}\1", spec, count=1)
            )

    def __str__(self) -> str:
        return self.text


def shown_pair(value: float, threshold: float, unit: str = "") -> tuple[Shown, Shown]:
    """The value and the threshold in their unit, with the detail to tell them apart."""
    texts = distinct([value, threshold], unit)
    return Shown(value, texts[0], threshold), Shown(threshold, texts[1], value)


def default_text(metric: str, op: str, value: Shown, threshold: Shown) -> str:
    """The reason of a rule without a message of its own: "load is 3.2, above the limit of 2"."""
    return f"{metric} is {value}, {RELATIONS[op]} {threshold}"


def expand(message: str, **fields: Any) -> str:
    """A rule's own message with its placeholders filled in."""
    return message.format(**fields)


def message_problem(message: str) -> str | None:
    """Why this message cannot be expanded, or None when it can (checked when the rule is built)."""
    sample = Shown(0.5, "0.5")
    try:
        expand(message, metric="m", value=sample, threshold=sample, op=">", match="m", summary="s")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        return f"message {message!r} cannot be filled in ({exc!r}); it may use {known}"
    return None
