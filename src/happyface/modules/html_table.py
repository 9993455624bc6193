"""The `html_table` module type: numbers from an HTML table (or any element) by CSS selectors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import lxml.html
from cssselect import SelectorError
from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ExtractError
from ..module import Module, ModuleSettings
from ..result import Result
from ..sources import Inputs
from .common import checked_metric, read_input
from .values import known_units, value_result

_NUMBER = re.compile(r"[-+]?\d[\d,.]*(?:[eE][-+]?\d+)?")
_UNIT = re.compile(r"\s*([^\s\d]+)")

Found = tuple[str, str, float | None, str]


class CellRef(BaseModel):
    """A cell by its row (text of the row's first cell, or 0-based index) and column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    row: str | int = Field(description="text of the row's first cell, or the 0-based data row")
    column: str | int = Field(description="header text of the column, or its 0-based index")

    def describe(self) -> str:
        return f"row {self.row!r}, column {self.column!r}"


def _check_selector(selector: str) -> str:
    try:
        lxml.html.fromstring("<p></p>").cssselect(selector)
    except SelectorError as exc:
        raise ValueError(f"{selector!r} is not a CSS selector: {exc}") from exc
    return selector


class HtmlTableSettings(ModuleSettings):
    """Settings of the `html_table` module type."""

    table: str = Field("table", description="CSS selector of the table (its first match)")
    values: dict[str, CellRef] = Field(
        default_factory=dict,
        description='metric -> cell of the table, e.g. {free = {row = "cms", column = "Free"}}',
    )
    cells: dict[str, str] = Field(
        default_factory=dict,
        description='metric -> CSS selector of any element in the page, e.g. {jobs = "#running"}',
    )
    units: dict[str, float] = Field(
        default_factory=dict,
        description="unit after a number -> factor it is multiplied by, e.g. "
        '{TB = 1e12, GB = 1e9}; other text after the number ("%", "jobs") is ignored',
    )
    metric_units: dict[str, str] = Field(
        default_factory=dict,
        description='metric name (or glob) -> unit, e.g. {free = "bytes", load = "fraction"}: '
        "values and reasons are written as 1.5 TB or 75 % (as json_value's `units`)",
    )
    decimal_comma: bool = Field(
        False, description='numbers are written "1.234,5" (comma decimal) instead of "1,234.5"'
    )

    @field_validator("table")
    @classmethod
    def _table_selector(cls, selector: str) -> str:
        return _check_selector(selector)

    @field_validator("metric_units")
    @classmethod
    def _metric_units(cls, units: dict[str, str]) -> dict[str, str]:
        return known_units(units)

    @field_validator("cells")
    @classmethod
    def _cell_selectors(cls, cells: dict[str, str]) -> dict[str, str]:
        for name, selector in cells.items():
            checked_metric(name)
            _check_selector(selector)
        return cells

    @field_validator("values")
    @classmethod
    def _value_names(cls, values: dict[str, CellRef]) -> dict[str, CellRef]:
        for name in values:
            checked_metric(name)
        return values

    @model_validator(mode="after")
    def _something_to_read(self) -> HtmlTableSettings:
        if not self.values and not self.cells:
            raise ValueError("give `values` (cells of the table) or `cells` (CSS selectors)")
        if both := sorted(set(self.values) & set(self.cells)):
            raise ValueError(f"metric(s) {both} are in both `values` and `cells`")
        return self


class HtmlTable(Module[HtmlTableSettings]):
    """Numbers from an HTML page: table cells by row and column, or elements by CSS selector."""

    Settings = HtmlTableSettings

    def units(self) -> Mapping[str, str]:
        return self.settings.metric_units

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        root = parse_html(read_input(inputs).content)
        found: list[Found] = []
        if self.settings.values:
            found += self._table_values(root)
        for name, selector in self.settings.cells.items():
            matches = root.cssselect(selector)
            text = _text(matches[0]) if matches else None
            found.append(self._found(name, selector, text))
        return value_result(found, "cell", self.settings.metric_units)

    def _table_values(self, root: lxml.html.HtmlElement) -> list[Found]:
        tables = root.cssselect(self.settings.table)
        if not tables:
            raise ExtractError(
                f"no element of the page matches the table selector {self.settings.table!r}"
            )
        header, rows = _rows(tables[0])
        found = []
        for name, ref in self.settings.values.items():
            text, problem = _cell(header, rows, ref)
            found.append(self._found(name, ref.describe(), text, problem))
        return found

    def _found(self, name: str, where: str, text: str | None, problem: str = "") -> Found:
        if text is None:
            return name, where, None, problem or "no match"
        value = parse_number(text, self.settings.units, self.settings.decimal_comma)
        return name, where, value, "" if value is not None else f"not a number: {text[:60]!r}"


def parse_html(content: bytes) -> lxml.html.HtmlElement:
    """The page's root element; lxml's HTML parser never loads anything from the network."""
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
    try:
        return lxml.html.document_fromstring(content, parser=parser)
    except (etree.ParserError, etree.LxmlError, ValueError) as exc:
        raise ExtractError(f"the input is not readable HTML ({exc})") from exc


def _rows(table: lxml.html.HtmlElement) -> tuple[list[str], list[list[str]]]:
    """The header texts and the data rows (cell texts) of the table, nested tables left out."""
    rows = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    cells = [[_text(c) for c in row.xpath("./th | ./td")] for row in rows]
    has_th = [bool(row.xpath("./th")) and not row.xpath("./td") for row in rows]
    header_at = has_th.index(True) if True in has_th else 0
    if not cells:
        raise ExtractError("the table has no rows")
    return cells[header_at], cells[:header_at] + cells[header_at + 1 :]


def _cell(header: list[str], rows: list[list[str]], ref: CellRef) -> tuple[str | None, str]:
    if isinstance(ref.row, int):
        row = rows[ref.row] if 0 <= ref.row < len(rows) else None
    else:
        row = next((r for r in rows if r and _same(r[0], ref.row)), None)
    if row is None:
        return None, f"no row {ref.row!r}"
    if isinstance(ref.column, int):
        index = ref.column
    else:
        index = next((i for i, h in enumerate(header) if _same(h, ref.column)), -1)
        if index < 0:
            return None, f"no column {ref.column!r} (columns: {', '.join(header)[:120]})"
    return (row[index], "") if 0 <= index < len(row) else (None, f"row has no column {index}")


def _same(text: str, wanted: str) -> bool:
    return " ".join(text.split()).casefold() == " ".join(wanted.split()).casefold()


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def parse_number(text: str, units: dict[str, float], decimal_comma: bool = False) -> float | None:
    """The first number in `text`, times the factor of the unit after it when one is known.

    "1,234" is 1234, "12 %" is 12, "3.5 TB" is 3.5e12 with units {TB = 1e12}; None without a number.
    """
    text = text.replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", "")
    match = _NUMBER.search(text)
    if match is None:
        return None
    digits = match.group(0).rstrip(".,")
    digits = digits.replace(".", "").replace(",", ".") if decimal_comma else digits.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None  # "1.2.3": a version or a date, not a number
    unit = _UNIT.match(text, match.end())
    if unit is not None:
        word = unit.group(1)
        factor = units.get(word)
        if factor is None:
            factor = next((f for u, f in units.items() if u.casefold() == word.casefold()), 1.0)
        value *= factor
    return value
