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
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)">x</a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect ONMOUSEOVER = "x()"/></svg>',
    ],
)
def test_svg_with_scripts_is_refused(svg):
    assert "active content" in assert_clean_failure(Plot, svg)


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
