"""The public page of the filed catalogue (issue 12) in a real headless browser: Debian's Chromium driven by
Playwright. Real runs of shipped enterprises (``filed_runs``) are filed, all but one published, the site written;
the page must list exactly the published records, search and filter them, switch language, with no console error.

Chromium missing is a failure, not a skip: ``scripts/test.sh`` installs it (``apt-get install chromium``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest
from filed_runs import SHIPPED, make_batch

from methodology.execution import filing

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(site folder, public records, the record filed but only verified)."""
    tmp = tmp_path_factory.mktemp("site")
    batch = make_batch(tmp / "runs", SHIPPED)
    with filing.connect(tmp / "catalogue.sqlite") as conn:
        filing.file_paths(conn, [batch])
        rows = filing.records(conn)
        for r in rows:
            filing.set_status(conn, r["id"], "verified")
        for r in rows[1:]:
            filing.set_status(conn, r["id"], "published")
        filing.publish_site(conn, tmp / "site")
        public = filing.public_records(conn)
    assert len(public) == len(SHIPPED) - 1
    return tmp / "site", public, rows[0]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"chromium: found none at {CHROMIUM}; expected Debian's chromium (apt-get install -y chromium; "
                    f"scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    pg = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    pg.goto((site[0] / "index.html").as_uri())
    pg.wait_for_selector("#list li.card")
    yield pg
    assert errors == []
    pg.close()


def _shown(pg) -> list[str]:
    return pg.eval_on_selector_all("#list li.card", "els => els.map(e => e.dataset.labelId)")


def test_every_published_record_is_listed_and_no_other(page, site):
    _, public, unpublished = site
    assert sorted(_shown(page)) == sorted(r["label_id"] for r in public)
    assert unpublished["label_id"] not in _shown(page)
    assert page.text_content("#count") == f"显示 {len(public)} / {len(public)} 条记录"
    widths = page.eval_on_selector_all("#list img", "els => els.map(e => e.complete && e.naturalWidth)")
    assert len(widths) == len(public) and all(w > 0 for w in widths)  # every label copied and loaded
    data = (site[0] / "data.js").read_text(encoding="utf-8")
    assert "run_dir" not in data and str(site[0].parent) not in data  # no path of the filing machine


def test_search_by_name_label_id_and_chinese_province(page, site):
    _, public, _ = site
    one = public[0]
    page.fill("#q", one["enterprise_name"].lower())
    assert _shown(page) == [one["label_id"]]
    page.fill("#q", one["label_id"][:8])
    assert _shown(page) == [one["label_id"]]
    zh = next(r for r in public if r["province_zh"])
    page.fill("#q", zh["province_zh"])
    assert sorted(_shown(page)) == sorted(r["label_id"] for r in public if r["province_zh"] == zh["province_zh"])
    page.fill("#q", "no such enterprise anywhere")
    assert _shown(page) == []
    page.fill("#q", "")
    assert len(_shown(page)) == len(public)


@pytest.mark.parametrize("field", ["industry", "product", "province", "route"])
def test_each_filter_shows_exactly_the_matching_records(page, site, field):
    _, public, _ = site
    values = page.eval_on_selector_all(f"#f-{field} option", "els => els.map(e => e.value)")
    assert values[0] == "" and sorted(values[1:]) == sorted({r[field] for r in public})
    for value in values[1:]:
        page.select_option(f"#f-{field}", value)
        assert sorted(_shown(page)) == sorted(r["label_id"] for r in public if r[field] == value), value
    page.select_option(f"#f-{field}", "")
    assert len(_shown(page)) == len(public)


def test_filters_combine(page, site):
    _, public, _ = site
    r = public[-1]
    page.select_option("#f-province", r["province"])
    page.select_option("#f-product", r["product"])
    assert sorted(_shown(page)) == sorted(x["label_id"] for x in public
                                          if x["province"] == r["province"] and x["product"] == r["product"])


def test_language_toggle(page, site):
    _, public, _ = site
    assert page.get_attribute("html", "lang") == "zh-CN" and page.text_content("h1") == "产品碳足迹目录"
    page.click("#lang")
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("h1") == "Product carbon footprint catalogue"
    assert page.text_content("#count") == f"Showing {len(public)} of {len(public)} records"
    assert page.text_content("#lang") == "中文"
    options = page.eval_on_selector_all("#f-province option", "els => els.map(e => e.textContent)")
    assert set(options[1:]) == {r["province"] for r in public}
    page.click("#lang")
    options = page.eval_on_selector_all("#f-province option", "els => els.map(e => e.textContent)")
    assert set(options[1:]) == {r["province_zh"] for r in public}
    assert page.text_content("h1") == "产品碳足迹目录"


def test_strip_plot_compares_with_the_same_product_and_route(page, site):
    _, public, _ = site
    for r in public:
        peers = [p for p in public if (p["product"], p["route"]) == (r["product"], r["route"])]
        card = page.locator(f'li.card[data-id="{r["id"]}"]')
        assert card.locator("circle").count() == (len(peers) if len(peers) > 1 else 0)
        assert card.locator("circle.me").count() == (1 if len(peers) > 1 else 0)
    assert page.locator("circle.peer").count() >= 1  # the two stainless EAF-AOD works share product and route


def test_served_by_a_web_server_too(browser, site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no request log on stderr
            pass

    handler = functools.partial(Quiet, directory=str(site[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pg = browser.new_page()
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        pg.wait_for_selector("#list li.card")
        assert len(_shown(pg)) == len(site[1]) and errors == []
        pg.close()
    finally:
        server.shutdown()
        server.server_close()
