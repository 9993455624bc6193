"""The `xml_value` module type: numbers picked out of an XML document with XPath."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lxml import etree
from pydantic import Field, model_validator

from ..errors import FormatError
from ..module import Module
from ..result import Result
from ..sources import Inputs
from .common import checked_metric, read_input
from .values import ValueSettings, combine, value_result
from .xmlsafe import parse_lxml


class XmlValueSettings(ValueSettings):
    """Settings of the `xml_value` module type."""

    values: dict[str, str] = Field(
        description="metric name -> XPath, e.g. "
        "{free = \"sum(//d:pool/d:space/d:metric[@name='free'])\"}",
        min_length=1,
    )
    namespaces: dict[str, str] = Field(
        default_factory=dict,
        description='prefix -> namespace URI used in the XPaths, e.g. {d = "http://www.dcache.org/2008/01/Info"}',
    )

    @model_validator(mode="after")
    def _valid(self) -> XmlValueSettings:
        for name, expression in self.values.items():
            checked_metric(name)
            xpath = compile_xpath(expression, self.namespaces)
            try:
                # an undefined prefix only shows when evaluated: try it on an empty document
                xpath(etree.Element("empty"))
            except etree.XPathError as exc:
                raise ValueError(f"{expression!r} is not a valid XPath here: {exc}") from exc
        return self


def compile_xpath(expression: str, namespaces: dict[str, str]) -> etree.XPath:
    """The compiled XPath; ValueError with lxml's reason when it is not valid."""
    try:
        return etree.XPath(expression, namespaces=namespaces or None)
    except etree.XPathError as exc:
        raise ValueError(f"{expression!r} is not a valid XPath: {exc}") from exc


class XmlValue(Module[XmlValueSettings]):
    """Numbers from an XML document, one metric per XPath expression, for rules to rate."""

    Settings = XmlValueSettings

    def units(self) -> Mapping[str, str]:
        return self.settings.units

    def extract(self, inputs: Inputs, now: datetime) -> Result:
        root = parse_lxml(read_input(inputs).content)
        _check_namespaces(root, set(self.settings.namespaces.values()))
        found: list[tuple[str, str, float | None, str]] = []
        for name, expression in self.settings.values.items():
            xpath = compile_xpath(expression, self.settings.namespaces)
            try:
                matches = _matches(xpath(root))
            except etree.XPathError as exc:
                found.append((name, expression, None, f"cannot evaluate ({exc})"))
                continue
            value, problem = combine(matches, self.settings.aggregate)
            found.append((name, expression, value, problem))
        return value_result(found, "XPath", self.settings.units)


def _check_namespaces(root: etree._Element, uris: set[str]) -> None:
    """FormatError when no element is in any configured namespace: another document.

    XPath functions such as sum() give a number even over no nodes, so a wrong page would
    otherwise read as zeros.
    """
    if not uris:
        return
    prefixes = tuple(f"{{{uri}}}" for uri in uris)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(prefixes):
            return
    raise FormatError(
        f"a document with elements in {', '.join(sorted(uris))}",
        f"the root element <{etree.QName(root).localname}> and none in those namespaces",
    )


def _matches(result: Any) -> list[Any]:
    """XPath results as a list: elements become their text, numbers and strings stay."""
    items = result if isinstance(result, list) else [result]
    return [
        "".join(item.itertext()) if isinstance(item, etree._Element) else item for item in items
    ]
