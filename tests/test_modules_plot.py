"""The `plot` module type: only real, complete, script-free images pass."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from happyface import ExtractError
from happyface.modules.plot import Plot
from happyface.plugins import Registry
from tests.fixtures.modules import (
    BILLION_LAUGHS,
    NOW,
    assert_clean_failure,
    data,
    hostile_xml,
    huge_input,
    raw,
    result_or_extract_error,
    run,
)

SVG = data("plot_transfers.svg")


def extract(sources: dict[str, bytes], **settings_: object):
    module = Plot(Plot.Settings(**settings_), {})
    return module.extract({name: raw(body) for name, body in sources.items()}, NOW)


def test_registered_through_the_entry_point():
    assert Registry().get("plot") is Plot


@pytest.mark.parametrize(
    ("name", "content_type", "size"),
    [
        ("plot_load.png", "image/png", (120, 60)),
        ("plot_load.jpg", "image/jpeg", (None, None)),
        ("plot_load.gif", "image/gif", (120, 60)),
        ("plot_load.webp", "image/webp", (None, None)),
        ("plot_transfers.svg", "image/svg+xml", (200, 100)),
    ],
)
def test_each_image_type_is_recognised(name, content_type, size):
    result = run(Plot, data(name))
    (image,) = result.details["images"]
    assert image == {
        "source": "main",
        "content_type": content_type,
        "bytes": len(data(name)),
        "width": size[0],
        "height": size[1],
        "caption": "main",
    }
    assert result.status is None and result.metrics["images"] == 1


def test_several_sources_with_captions_main_first():
    result = extract(
        {"disk": data("plot_load.gif"), "main": data("plot_load.png"), "net": SVG},
        captions={"main": "Load of the last day", "net": "Transfers"},
    )
    images = result.details["images"]
    assert [i["source"] for i in images] == ["main", "disk", "net"]
    assert [i["caption"] for i in images] == ["Load of the last day", "disk", "Transfers"]
    assert result.metrics["bytes"] == sum(i["bytes"] for i in images)
    assert result.tables[0].rows[0][:3] == ("main", "Load of the last day", "image/png")


def test_an_html_error_page_is_not_an_image():
    page = b"<!DOCTYPE html><html><body>Sorry, the plot service is down</body></html>"
    message = assert_clean_failure(Plot, page)
    assert message == "source 'main' is not an image (it looks like HTML)"
    with pytest.raises(ExtractError, match="source 'cpu' is not an image"):
        extract({"main": data("plot_load.png"), "cpu": b'{"error": "no data"}'})


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b'{"a": 1}', "JSON"), (b"<rrd/>", "XML"), (b"no data", "text"), (b"\x00\x01\xfe", "binary")],
)
def test_what_a_non_image_looks_like(body, kind):
    assert kind in assert_clean_failure(Plot, body)


@pytest.mark.parametrize(
    "name", ["plot_load.png", "plot_load.jpg", "plot_load.gif", "plot_load.webp"]
)
def test_truncated_images_are_refused(name):
    body = data(name)
    assert "truncated" in assert_clean_failure(Plot, body[: len(body) // 2])


@pytest.mark.parametrize(
    "body",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">x</a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect ONMOUSEOVER = "x()"/></svg>',
    ],
)
def test_svg_with_scripts_is_refused(body):
    assert "active content" in assert_clean_failure(Plot, body)


def test_svg_hostile_or_broken_or_disallowed():
    assert "active content" in assert_clean_failure(Plot, hostile_xml(BILLION_LAUGHS, "svg"))
    assert "XML" in assert_clean_failure(Plot, SVG[: len(SVG) // 2])
    assert "allow_svg" in assert_clean_failure(Plot, SVG, allow_svg=False)


def test_empty_huge_and_missing():
    assert "empty" in assert_clean_failure(Plot, b"")
    assert "MB" in assert_clean_failure(Plot, huge_input(b"\x89PNG\r\n\x1a\n"))
    with pytest.raises(ExtractError, match="at least one source"):
        Plot(Plot.Settings(), {}).extract({}, NOW)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"<svg"]),
    st.binary(max_size=600),
)
def test_random_bytes_never_escape(prefix, body):
    result_or_extract_error(Plot, prefix + body)


def test_matplotlib_svg_with_its_doctype_is_accepted():
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([1, 3, 2])
    body = io.BytesIO()
    figure.savefig(body, format="svg")
    plt.close(figure)
    assert b"<!DOCTYPE svg" in body.getvalue()
    assert run(Plot, body.getvalue()).details["images"][0]["content_type"] == "image/svg+xml"


def svg(body: str, prolog: str = "") -> bytes:
    """An SVG document with `body` inside its root element."""
    return (
        f'{prolog}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="20" height="10">{body}</svg>'
    ).encode()


HOSTILE_SVG = {
    "entity-encoded javascript: link": svg(
        '<a xlink:href="&#106;avascript:alert(1)"><rect width="9" height="9"/></a>'
    ),
    "entity-encoded javascript: in use": svg('<use href="&#x6A;avascript:alert(1)"/>'),
    "set of an event attribute": svg(
        '<rect width="9" height="9"><set attributeName="onclick" to="alert(1)"/></rect>'
    ),
    "animate of a link": svg(
        '<a href="#x"><animate attributeName="href" values="javascript:alert(1)"/>x</a>'
    ),
    "animateTransform": svg('<rect><animateTransform attributeName="transform"/></rect>'),
    "external image": svg('<image href="http://127.0.0.1:9/track.png" width="9" height="9"/>'),
    "external image by xlink": svg('<image xlink:href="//127.0.0.1:9/track.png"/>'),
    "svg image in data": svg('<image href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
    "style @import": svg("<style>@import url(http://127.0.0.1:9/x.css);</style>"),
    "style @import without url": svg("<style>@import 'http://127.0.0.1:9/x.css';</style>"),
    "style external url": svg("<style>rect { fill: url(http://127.0.0.1:9/p#x) }</style>"),
    "style escaped url": svg("<style>rect { fill: \\75rl(http://127.0.0.1:9/p) }</style>"),
    "style attribute url": svg("<rect style=\"fill: url('http://127.0.0.1:9/p')\"/>"),
    "presentation attribute url": svg('<rect fill="url(http://127.0.0.1:9/p#g)"/>'),
    "css expression": svg('<rect style="width: expression(alert(1))"/>'),
    "use of an external file": svg('<use xlink:href="http://127.0.0.1:9/sprite.svg#a"/>'),
    "foreignObject": svg("<foreignObject><p>x</p></foreignObject>"),
    "script": svg("<script>alert(1)</script>"),
    "xhtml script": svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
    "xhtml script in metadata": svg(
        '<metadata><h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script></metadata>'
    ),
    "event attribute": svg('<rect onclick="alert(1)"/>'),
    "event attribute on the root": b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>',
    "event attribute in a namespace": svg(
        '<rect xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="click"/>'
    ),
    "feImage": svg('<filter id="f"><feImage href="http://127.0.0.1:9/x.png"/></filter>'),
    "xml:base": svg('<g xml:base="http://127.0.0.1:9/"><use href="#a"/></g>'),
    "xml-stylesheet": svg("", prolog='<?xml-stylesheet href="http://127.0.0.1:9/x.css"?>'),
    "DTD with entities": svg("<text>&e;</text>", prolog='<!DOCTYPE svg [<!ENTITY e "E">]>'),
    "DTD with an element declaration": svg("", prolog="<!DOCTYPE svg [<!ELEMENT svg ANY>]>"),
    "iframe": svg("<iframe src='http://127.0.0.1:9/'/>"),
    "link element a": svg('<a href="#top"><text>top</text></a>'),
    "an element crowded with attributes": svg(
        "<rect " + " ".join(f'x{n}="1"' for n in range(100_000)) + "/>"
    ),
}


@pytest.mark.parametrize("body", HOSTILE_SVG.values(), ids=HOSTILE_SVG.keys())
def test_hostile_svg_is_refused(body):
    message = assert_clean_failure(Plot, body)
    assert "is an SVG image with active content" in message


def test_an_inert_drawing_with_local_references_and_an_embedded_png_is_accepted():
    drawing = svg(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="rgb(0, 0, 255)"/>'
        '</linearGradient><clipPath id="c"><rect width="20" height="10"/></clipPath>'
        '<path id="p" d="M 0 0 L 5 5"/><style type="text/css">*{stroke-linecap: butt}</style>'
        '</defs><g clip-path="url(#c)" transform="translate(1 2) rotate(-90)">'
        '<rect width="20" height="10" fill="url(#g)" style="fill-opacity: 0.5"/>'
        '<use xlink:href="#p"/><text x="1" y="9" xml:space="preserve">GB/h</text>'
        '<image width="4" height="4" href="data:image/png;base64,iVBORw0KGgo="/></g>',
        prolog='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
    )
    (image,) = run(Plot, drawing).details["images"]
    assert (image["content_type"], image["width"], image["height"]) == ("image/svg+xml", 20, 10)
