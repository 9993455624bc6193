"""Safe XML parsing for module types: no entity expansion, no external entities, no network.

Two parsers, one policy. `parse` (defusedxml over ElementTree) serves the types that walk a
known format; `parse_lxml` serves XPath, where lxml is configured never to resolve entities,
load a DTD or touch the network, and documents that declare entities are refused outright so
that a "billion laughs" file cannot even reach the XPath engine.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _defused_fromstring
from lxml import etree

from ..errors import ExtractError


def parse(content: bytes) -> Element:
    """The root element of `content`; an ExtractError for anything that is not safe, valid XML."""
    try:
        return _defused_fromstring(
            content, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise ExtractError(f"the XML input was refused as unsafe: {_refusal(exc)}") from exc
    except ParseError as exc:
        raise ExtractError(f"the input is not well-formed XML ({exc})") from exc
    except (ValueError, UnicodeError, RecursionError) as exc:
        raise ExtractError(f"the input is not readable XML ({type(exc).__name__}: {exc})") from exc


def _safe_lxml_parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers keep state and are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_lxml(content: bytes) -> etree._Element:
    """The lxml root element of `content`, parsed with the safe settings; ExtractError otherwise."""
    try:
        root = etree.fromstring(content, parser=_safe_lxml_parser())
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"the input is not well-formed XML ({exc})") from exc
    except (etree.LxmlError, ValueError, UnicodeError) as exc:
        raise ExtractError(f"the input is not readable XML ({type(exc).__name__}: {exc})") from exc
    if root is None:
        raise ExtractError("the XML input has no root element")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ExtractError(
            "the XML input was refused as unsafe: it declares entities (entity expansion is "
            "never performed)"
        )
    return root


def local_name(tag: object) -> str:
    """The tag without its `{namespace}` prefix ('' for comments and processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def child_text(element: Element, name: str) -> str | None:
    """The stripped text of the first child called `name` (any namespace), or None."""
    for child in element:
        if local_name(child.tag) == name:
            return (child.text or "").strip()
    return None


def _refusal(exc: DefusedXmlException) -> str:
    kind = type(exc).__name__
    reasons = {
        "EntitiesForbidden": "it declares entities (entity expansion is never performed)",
        "ExternalReferenceForbidden": "it references an external entity or DTD",
        "DTDForbidden": "it contains a DTD",
    }
    return reasons.get(kind, kind)
