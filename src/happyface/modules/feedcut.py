"""A feed reduced to what a dashboard shows, safely and at a bounded cost, before feedparser.

feedparser and nh3 are the slow part of reading a feed: nh3 takes time that grows with the
square of a text's length when it is full of character references (a 1.2 MB summary of `&foo;`
took 13 s). So the feed is first parsed by lxml (C, linear, never resolving entities, loading a
DTD or touching the network) from at most its first `READ_BYTES`, then cut: at most
`MAX_ENTRIES` entries, at most `FIELD_CHARS` characters in each field of the channel or of an
entry, and at most `TOTAL_COST` for the whole feed. What is left is serialised again as
well-formed XML with no DTD, and only that reaches feedparser. Every cut is counted so that the
module can say what it left out.
"""

from __future__ import annotations

import html.entities
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from ..errors import ExtractError
from .feedencoding import declares_entities, decode_prefix, feed_encoding
from .xmlsafe import local_name

#: bytes of the input parsed; beyond them a feed is not read (a news feed is rarely 200 kB)
READ_BYTES = 1024 * 1024
#: entries kept, in document order (the module shows at most 500)
MAX_ENTRIES = 500
#: characters kept in one field (a title, a summary with its markup) of the channel or an entry
FIELD_CHARS = 10_000
#: the cost of the whole reduced feed, about what feedparser then spends on it: characters,
#: `&` and `<` counted five times (they come back escaped and each reference is a call),
#: elements 200 times (feedparser spends about as long on one as on 200 characters)
TOTAL_COST = 400_000
_ELEMENT_COST = 200
#: attributes of one element read; an element with more loses them all
_MAX_ATTRIBUTES = 30
#: what an element inside a field takes from the field's characters
_FIELD_ELEMENT_CHARS = 20
_ENTRIES = frozenset({"item", "entry"})
#: the fields of the channel and of entries that the module reads; the others are dropped
_FIELDS = frozenset(
    {
        "title",
        "link",
        "description",
        "summary",
        "content",
        "encoded",
        "author",
        "creator",
        "lastBuildDate",
        "pubDate",
        "published",
        "updated",
        "date",
        "issued",
        "modified",
    }
)
_UNSAFE = "the feed was refused as unsafe: it declares XML entities"


@dataclass
class Cut:
    """What reducing a feed left out; all zero for an ordinary feed."""

    bytes_read: int = 0
    bytes_total: int = 0
    entries_read: int = 0
    entries_total: int = 0
    texts_shortened: int = 0

    def as_dict(self) -> dict[str, int]:
        """The cuts that happened, for the module's details."""
        size = (
            {"bytes_read": self.bytes_read, "bytes_total": self.bytes_total}
            if self.bytes_read < self.bytes_total
            else {}
        )
        entries = (
            {"entries_read": self.entries_read, "entries_total": self.entries_total}
            if self.entries_read < self.entries_total
            else {}
        )
        texts = {"texts_shortened": self.texts_shortened} if self.texts_shortened else {}
        return size | entries | texts

    def sentence(self) -> str:
        """What was cut, for the module's message; '' when nothing was."""
        parts = []
        if self.bytes_read < self.bytes_total:
            parts.append(
                f"read the first {self.bytes_read / 1e6:.1f} of {self.bytes_total / 1e6:.1f} MB"
                f" ({self.entries_read:,} entries)"
            )
        elif self.entries_read < self.entries_total:
            parts.append(f"read the first {self.entries_read:,} of {self.entries_total:,} entries")
        if self.texts_shortened:
            parts.append(f"{self.texts_shortened:,} texts shortened")
        return f"feed cut to bound the work: {'; '.join(parts)}" if parts else ""


@dataclass(frozen=True)
class ReducedFeed:
    """The reduced feed, its entries, what was cut, and what a lenient parse forgave."""

    root: etree._Element
    entries: list[etree._Element]
    cut: Cut
    warning: str | None

    def xml(self) -> bytes:
        """The reduced feed as well-formed XML without a DTD, for feedparser."""
        return etree.tostring(self.root, encoding="utf-8", xml_declaration=True)


def reduce_feed(content: bytes) -> ReducedFeed:
    """The feed in `content`, cut to a bounded size; ExtractError for unsafe or broken input."""
    encoding = feed_encoding(content)
    if declares_entities(content, encoding):
        raise ExtractError(_UNSAFE)
    total = len(content) - encoding.start
    text = decode_prefix(content, encoding, READ_BYTES)
    parser = _parser()
    try:
        root = etree.fromstring(text.encode("utf-8", errors="replace"), parser)
    except etree.LxmlError as exc:  # even a lenient parse gives up on some inputs
        raise ExtractError(f"the input is not an RSS or Atom feed ({exc})") from exc
    if root is None:
        raise ExtractError(f"the input is not an RSS or Atom feed ({_first_error(parser, False)})")
    if _declares_entities(root):  # already refused above; the parser's own view, to be sure
        raise ExtractError(_UNSAFE)
    whole = total <= READ_BYTES
    if whole and _truncated(text, root, parser):
        raise ExtractError(f"the feed is truncated ({_first_error(parser, True)})")
    reducer = _Reducer()
    cut = reducer.reduce(root)
    cut.bytes_read, cut.bytes_total = min(total, READ_BYTES), total
    problem = _first_error(parser, whole) if len(parser.error_log) else None
    warning = f"the feed is not well-formed; read leniently: {problem}" if problem else None
    return ReducedFeed(root, reducer.entries, cut, warning)


def _parser() -> etree.XMLParser:
    # recover: a feed that is not well-formed is still read, as feedparser would read it
    return etree.XMLParser(
        encoding="utf-8",
        recover=True,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _declares_entities(root: etree._Element) -> bool:
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and any(True for _ in dtd.iterentities())


def _truncated(text: str, root: etree._Element, parser: etree.XMLParser) -> bool:
    """Whether the document ends before its root element does (the parser closed it)."""
    if any(e.type_name == "ERR_TAG_NOT_FINISHED" for e in parser.error_log):
        return True
    name = f"{root.prefix}:{local_name(root.tag)}" if root.prefix else local_name(root.tag)
    return f"</{name}" not in text and not text.rstrip().endswith("/>")


def _first_error(parser: etree.XMLParser, whole: bool) -> str:
    """The first problem the parser forgave; for a cut input, not the cut's own end."""
    errors = [e for e in parser.error_log if whole or e.type_name != "ERR_TAG_NOT_FINISHED"]
    if not errors:
        return "no XML element found"
    return f"{errors[0].message} (line {errors[0].line})"


@dataclass
class _Reducer:
    """One pass over the parsed feed that cuts it down to the budgets above, counting cuts."""

    cost: int = 0
    cut: Cut = field(default_factory=Cut)
    entries: list[etree._Element] = field(default_factory=list)

    def reduce(self, root: etree._Element) -> Cut:
        self._container(root, is_root=True)
        self.cut.entries_read = len(self.entries)
        return self.cut

    def _container(self, element: etree._Element, is_root: bool = False) -> None:
        """The root, the channel or an entry: the fields the module reads, and entries."""
        attributes = _attributes_size(element)
        if attributes > FIELD_CHARS:
            element.attrib.clear()
            self.cut.texts_shortened += 1
        self.cost += _ELEMENT_COST + min(attributes, FIELD_CHARS)
        element.text = self._take(element.text, FIELD_CHARS)[0]
        index, child = 0, _first_child(element)
        while child is not None:
            following = child.getnext()
            name = local_name(child.tag)
            if isinstance(child, etree._Entity):
                _remove(child, self._take(_spelled(child), FIELD_CHARS)[0] or "")
            elif name in _ENTRIES and (len(self.entries) >= MAX_ENTRIES or self.cost >= TOTAL_COST):
                self._drop_entries(element, index, child)
                return
            elif name in _ENTRIES:
                self.cut.entries_total += 1
                self.entries.append(child)
                self._container(child)
            elif is_root and name == "channel":
                self._container(child)
            elif name not in _FIELDS or self.cost >= TOTAL_COST:
                self.cut.texts_shortened += name in _FIELDS
                _remove(child)
            else:
                self._field(child)
            if child.getparent() is not None:
                child.tail = self._take(child.tail, FIELD_CHARS)[0]
                index += 1
            child = following

    def _drop_entries(self, element: etree._Element, index: int, first: etree._Element) -> None:
        """Count the entries from `first` on, then drop them and whatever follows at once."""
        child: etree._Element | None = first
        while child is not None:
            self.cut.entries_total += local_name(child.tag) in _ENTRIES
            child = child.getnext()
        del element[index:]

    def _field(self, element: etree._Element) -> None:
        if self._walk(element, FIELD_CHARS) < 0:
            self.cut.texts_shortened += 1

    def _walk(self, element: etree._Element, left: int) -> int:
        """Cut `element`'s text, children and their tails to `left` characters; what is left.

        Negative when something was cut. Entity references (undefined ones survive a lenient
        parse) become the character an HTML entity of that name stands for, else plain text.
        """
        attributes = _attributes_size(element)
        if attributes > left:
            element.attrib.clear()
            return -1
        self.cost += _ELEMENT_COST + attributes
        element.text, left = self._take(element.text, left - _FIELD_ELEMENT_CHARS - attributes)
        index, child = 0, _first_child(element)
        while child is not None:
            following = child.getnext()
            if left <= 0:
                del element[index:]
                return -1
            if isinstance(child, etree._Entity):
                taken, left = self._take(_spelled(child), left)
                _remove(child, taken or "")
            else:
                left = self._walk(child, left)
                child.tail, left = self._take(child.tail, left)
                index += 1
            child = following
        return left

    def _take(self, text: str | None, left: int) -> tuple[str | None, int]:
        """`text` cut to `left` characters, and what is left of the budget (< 0 if cut)."""
        if not text:
            return text, left
        kept = text[: max(left, 0)]
        self.cost += len(kept) + 4 * (kept.count("&") + kept.count("<"))
        return kept, left - len(text)


def _spelled(entity: etree._Entity) -> str:
    """An entity reference as text: the character of the HTML entity of that name, or itself."""
    name = entity.name
    return html.entities.html5.get(f"{name};", f"&{name};") + (entity.tail or "")


def _attributes_size(element: etree._Element) -> int:
    """What an element's attributes cost: their text, and each one as much as an element."""
    count = len(element.keys())  # keys() is linear; values() takes time quadratic in the count
    if count > _MAX_ATTRIBUTES:
        return FIELD_CHARS + TOTAL_COST  # more than any budget: the attributes are dropped
    return sum(len(value) + _ELEMENT_COST for value in element.values()) if count else 0


def _first_child(element: etree._Element) -> Any:
    return next(iter(element), None)


def _remove(element: etree._Element, replacement: str = "") -> None:
    """Take `element` and its tail out of the tree, leaving `replacement` where it stood."""
    parent = element.getparent()
    if parent is None:
        return
    if replacement:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + replacement
        else:
            previous.tail = (previous.tail or "") + replacement
    element.tail = None
    parent.remove(element)
