"""Which SVG documents the plot type accepts: an allowlist of inert drawing, nothing else.

A blocklist of dangerous spellings loses to the first spelling it did not think of (a
`javascript:` URL written with character references, `<set attributeName="onclick">`, an
`@import` in a style sheet). So the document is parsed (lxml: no entities resolved, no DTD
loaded, no network) and every element, attribute and style sheet must be on the lists below:
shapes, text, gradients, clipping and simple filters as plotting libraries write them. A link
may only point into the document (`#id`), an image may only be a `data:` PNG, JPEG, GIF or
WebP, CSS may use `url(#id)` and colour and transform functions and nothing else. DTDs with
declarations, entity references, processing instructions, scripts, event attributes, animation
and foreign content are refused.
"""

from __future__ import annotations

import re

from lxml import etree

from ..errors import ExtractError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: what may describe the image inside <metadata> (matplotlib writes RDF, Dublin Core, CC)
METADATA_NS = frozenset(
    {
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
    }
)
ELEMENTS = _names(
    """svg g defs symbol use path rect circle ellipse line polyline polygon text tspan textPath
    title desc metadata clipPath mask pattern marker linearGradient radialGradient stop style
    image filter feGaussianBlur feOffset feBlend feFlood feComposite feMerge feMergeNode
    feColorMatrix feMorphology"""
)
ATTRIBUTES = _names(
    """id class style transform lang version baseProfile x y x1 y1 x2 y2 cx cy r rx ry fx fy fr
    width height d points viewBox preserveAspectRatio pathLength href type media
    fill fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap
    stroke-linejoin stroke-miterlimit stroke-dasharray stroke-dashoffset opacity color display
    visibility overflow clip clip-path clip-rule clipPathUnits mask maskUnits maskContentUnits
    marker-start marker-mid marker-end markerWidth markerHeight markerUnits refX refY orient
    patternUnits patternContentUnits patternTransform gradientUnits gradientTransform
    spreadMethod offset stop-color stop-opacity font font-family font-size font-size-adjust
    font-weight font-style font-variant font-stretch text-anchor dominant-baseline
    alignment-baseline baseline-shift letter-spacing word-spacing text-decoration
    writing-mode direction unicode-bidi dx dy rotate textLength lengthAdjust startOffset
    method spacing side shape-rendering text-rendering image-rendering color-interpolation
    color-interpolation-filters color-rendering vector-effect paint-order filter filterUnits
    primitiveUnits stdDeviation in in2 result mode operator k1 k2 k3 k4 values radius
    flood-color flood-opacity lighting-color role aria-label"""
)
#: attributes one element may have; plotting libraries write a handful
MAX_ATTRIBUTES = 50
#: CSS functions a drawing needs; `url()` separately, only towards `#id`
CSS_FUNCTIONS = _names(
    """rgb rgba hsl hsla translate translatex translatey rotate scale scalex scaley matrix
    skewx skewy"""
)
_FRAGMENT = re.compile(r"#[A-Za-z_][\w.:-]*")
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*")
_FUNCTION = re.compile(r"([A-Za-z_-][\w-]*)\s*\(")
_LOCAL_URL = re.compile(r"url\(\s*(['\"]?)#[A-Za-z_][\w.:-]*\1\s*\)", re.IGNORECASE)


def check_svg(name: str, content: bytes) -> etree._Element:
    """The root of `content` when it is an SVG document of inert drawing; else ExtractError."""
    root = _parse(name, content)
    if _tag(root) != (SVG_NS, "svg") and _tag(root) != (None, "svg"):
        raise ExtractError(f"source {name!r} is not an SVG image (root <{_tag(root)[1]}>)")
    problem = _dtd_problem(root) or _prolog_problem(root) or _tree_problem(root)
    if problem:
        raise ExtractError(
            f"source {name!r} is an SVG image with active content ({problem}); it is refused "
            "because it could run scripts or load content from elsewhere in the viewer's browser"
        )
    return root


def _parse(name: str, content: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=False,  # an <?xml-stylesheet?> must be seen to be refused
    )
    try:
        root = etree.fromstring(content, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ExtractError(f"source {name!r} is not well-formed SVG XML ({exc})") from exc
    if root is None:
        raise ExtractError(f"source {name!r} is not an SVG image (no root element)")
    return root


def _dtd_problem(root: etree._Element) -> str | None:
    """A DOCTYPE may name the SVG DTD (matplotlib writes one); it may not declare anything."""
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (any(dtd.iterentities()) or any(dtd.iterelements())):
        return "a DTD with declarations"
    return None


def _prolog_problem(root: etree._Element) -> str | None:
    for sibling in [*root.itersiblings(preceding=True), *root.itersiblings()]:
        if isinstance(sibling, etree._ProcessingInstruction):
            return f"processing instruction <?{sibling.target}?>"
    return None


def _tree_problem(root: etree._Element) -> str | None:
    described = {
        inner
        for metadata in root.iter(f"{{{SVG_NS}}}metadata", "metadata")
        for inner in metadata.iterdescendants()
    }
    for element in root.iter():
        if isinstance(element, etree._Entity):
            return f"entity reference &{element.name};"
        if isinstance(element, etree._ProcessingInstruction):
            return f"processing instruction <?{element.target}?>"
        if not isinstance(element.tag, str):
            continue
        if len(element.keys()) > MAX_ATTRIBUTES:  # keys() is linear; items() is not
            return f"an element with more than {MAX_ATTRIBUTES} attributes"
        problem = (
            _metadata_problem(element)
            if element in described
            else _element_problem(element) or _attributes_problem(element)
        )
        if problem:
            return problem
    return None


def _metadata_problem(element: etree._Element) -> str | None:
    """Inside <metadata> only descriptive vocabularies (inert in every browser)."""
    namespace, local = _tag(element)
    if namespace not in METADATA_NS:
        return f"element <{local}> inside <metadata>"
    names = element.keys()  # an lxml element: iterating it would give its children
    for key in names:
        attr_ns, attr = _split(key)
        if attr_ns not in METADATA_NS and (attr_ns, attr) != (XML_NS, "lang"):
            return f"attribute {attr} inside <metadata>"
    return None


def _element_problem(element: etree._Element) -> str | None:
    namespace, local = _tag(element)
    if namespace not in (SVG_NS, None) or local not in ELEMENTS:
        return f"element <{local}>"
    if local == "style":
        if element.get("type", "text/css").strip().lower() != "text/css":
            return "a style sheet that is not CSS"
        return _css_problem(element.text or "")
    if local == "image" and not _RASTER_DATA.fullmatch(_href(element) or ""):
        return "an image that is not an embedded PNG, JPEG, GIF or WebP"
    return None


def _attributes_problem(element: etree._Element) -> str | None:
    for key, value in element.attrib.items():
        namespace, name = _split(key)
        if name == "href" and namespace in (XLINK_NS, None):
            if not (_FRAGMENT.fullmatch(value) or _RASTER_DATA.fullmatch(value)):
                return f"link {value[:60]!r}"
        elif namespace == XML_NS:
            if name not in ("space", "lang"):
                return f"attribute xml:{name}"
        elif namespace is not None or name not in ATTRIBUTES:
            return f"attribute {name}"
        elif problem := _css_problem(value) if name == "style" else _functions_problem(value):
            return problem
    return None


def _css_problem(css: str) -> str | None:
    """CSS of a style sheet or `style` attribute: no at-rules, escapes or outside URLs."""
    if "@" in css:
        return "CSS at-rule (@import, @font-face)"
    if "\\" in css or "<" in css:
        return "CSS escapes or markup"
    return _functions_problem(css)


def _functions_problem(value: str) -> str | None:
    """Any `name(` in a value must be a colour or transform function or `url(#id)`."""
    for match in _FUNCTION.finditer(value):
        function = match.group(1).lower()
        if function == "url":
            if not _LOCAL_URL.match(value, match.start()):
                return f"CSS {value[match.start() : match.start() + 60]!r}"
        elif function not in CSS_FUNCTIONS:
            return f"CSS function {function}()"
    return None


def _href(element: etree._Element) -> str | None:
    return element.get(f"{{{XLINK_NS}}}href", element.get("href"))


def _tag(element: etree._Element) -> tuple[str | None, str]:
    return _split(element.tag) if isinstance(element.tag, str) else (None, "")


def _split(key: str) -> tuple[str | None, str]:
    if key.startswith("{"):
        namespace, _, local = key[1:].partition("}")
        return namespace, local
    return None, key
