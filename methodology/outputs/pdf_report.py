"""``report.pdf``: the CFP study report (``study_report.html_report``) laid out on A4 by WeasyPrint, so the PDF is the
HTML page itself (same sections, tables, embedded figures and the rule's SVG boundary diagram), not a second report
to keep in step.

WeasyPrint (PyPI) renders HTML and CSS with Pango, without a browser; the fonts come from registry packages too:
Noto Sans CJK SC from ``mplfonts`` (``outputs.fonts``), the family the report's CSS names first, so Chinese names
render and are embedded as a subset (the text of the PDF is extractable, Chinese included), and DejaVu Sans from
matplotlib for the monospace ``code``. It needs the Debian libraries ``libpango-1.0-0``, ``libpangoft2-1.0-0``
and, to subset the 16 MB CJK font in about a second instead of 15-30 s with fontTools, ``libharfbuzz-subset0``
(``scripts/system-packages.sh`` installs them; without them ``check_libraries`` fails with a one-line message
naming them, before a run starts).
"""

from __future__ import annotations

import functools
from pathlib import Path

from methodology.outputs.fonts import FAMILY, cjk_font_path


def _mpl_font(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@functools.cache
def _print_css() -> str:
    """A4 pages, the fonts from their packages (no system font needed), tables and figures kept within the page."""
    return (f"@font-face{{font-family:'{FAMILY}';src:url('{cjk_font_path().as_uri()}')}}"
            f"@font-face{{font-family:'DejaVu Sans Mono';src:url('{_mpl_font('DejaVuSansMono.ttf').as_uri()}')}}"
            "@page{size:A4;margin:14mm 12mm;@bottom-right{content:counter(page) ' / ' counter(pages);"
            f"font-family:'{FAMILY}';font-size:8pt;color:#666}}}}"
            f"body{{font-family:'{FAMILY}',sans-serif;max-width:none;margin:0;font-size:9pt}}"
            "code{font-family:'DejaVu Sans Mono',monospace;font-size:.9em}"
            "table{width:100%;table-layout:auto}td,th{overflow-wrap:anywhere}tr{break-inside:avoid}"
            "img,svg{max-width:100%;height:auto}h2,h3{break-after:avoid}")


PACKAGES = ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0")  # Debian names


def check_libraries():
    """WeasyPrint, imported; ``SystemLibraryMissing`` (one line, naming the Debian packages) when the libraries it
    loads are not installed. (``import weasyprint`` then prints a banner and raises cffi's ``OSError``.)"""
    import contextlib
    import io

    from methodology.errors import SystemLibraryMissing

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint
    except OSError as exc:
        found = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SystemLibraryMissing(
            f"report.pdf: WeasyPrint cannot load the Pango/HarfBuzz system libraries ({found}); install them with "
            f"scripts/system-packages.sh or: apt-get install {' '.join(PACKAGES)}") from None
    return weasyprint


def pdf_bytes(html: str) -> bytes:
    """The PDF of a self-contained HTML page (no resources fetched: the report embeds its figures)."""
    weasyprint = check_libraries()
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    fetcher = weasyprint.URLFetcher(allowed_protocols={"file", "data"})  # nothing downloads at run time
    css = weasyprint.CSS(string=_print_css(), font_config=fonts, url_fetcher=fetcher)
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)
