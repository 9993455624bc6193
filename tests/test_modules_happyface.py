"""The classic `<happyface>` XML export as another instance's answer."""

from __future__ import annotations

import pytest

from happyface import ExtractError
from happyface.modules.happyface_remote import from_xml


@pytest.mark.parametrize("score", ["nan", "inf", "-inf", "half"])
def test_a_status_that_is_not_a_finite_number_is_refused(score: str) -> None:
    body = f"<happyface><category><name>Batch</name><status>{score}</status></category></happyface>"
    with pytest.raises(ExtractError, match="'Batch' has status"):
        from_xml(body.encode())


def test_a_numeric_status_is_read_with_the_old_thresholds() -> None:
    body = b"<happyface><category><name>Batch</name><status> 0.5 </status></category></happyface>"
    assert from_xml(body).categories[0].status == "neutral"
