"""A rendered monthly report opened in a real headless browser (Debian's chromium), offline.

The browser runs with every proxy pointed at a closed port and background networking off, and is
driven over the DevTools protocol: every request the page makes is recorded (Network domain), the
charts are measured in the live DOM (each ``figure.chart`` holds one ``<svg>`` whose mark elements
have a non-empty bounding box), and a full-page PNG is captured. A control page with one remote
image proves that the request check does see a request when there is one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # `make test` installs chromium; only outside CI may a machine without it skip this test
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason="chromium is not installed (make test installs it)"),
]

CHART_JS = """
JSON.stringify({
  charts: Array.from(document.querySelectorAll('figure.chart')).map(f => {
    const svgs = f.querySelectorAll('svg');
    const svg = svgs[0];
    const marks = svg ? Array.from(svg.querySelectorAll(
        '.role-mark path, .role-mark rect, .role-mark line, .role-mark text')) : [];
    const drawn = marks.filter(m => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
    const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {name: f.dataset.chart, svgs: svgs.length, marks: marks.length, drawn: drawn.length,
            width: r.width, height: r.height};
  }),
  svgs_total: document.querySelectorAll('svg').length,
  scripts: document.querySelectorAll('script').length,
  code_cells: document.querySelectorAll(
      '.jp-CodeCell .jp-InputArea, .jp-InputArea-editor, pre code').length,
  demo_visible: Array.from(document.querySelectorAll('.demo'))
      .some(e => e.getBoundingClientRect().height > 0 && /demo data/i.test(e.innerText)),
  text: document.body.innerText,
  height: document.documentElement.scrollHeight,
  scroll_width: document.documentElement.scrollWidth,
  view_width: window.innerWidth,
  wider: Array.from(document.querySelectorAll('main *'))
      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5).map(e => e.tagName + '.' + e.className),
})
"""


class Chromium:
    """Headless chromium with the DevTools protocol on a local port, no network for pages."""

    def __init__(self, profile: Path):
        self.profile = profile
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Chromium:
        args = [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
            "--metrics-recording-only", "--no-default-browser-check", "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
            "--window-size=1000,1200", "about:blank",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def _page_ws(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as r:
            targets = json.load(r)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def visit(self, url: str, *, screenshot: bool = False, width: int | None = None,
              run: str | None = None) -> dict:
        """Load ``url`` (on a phone-like screen ``width`` px wide when given; then evaluate
        ``run``, e.g. a click, and return its value as ``ran``); return the requests made, the
        DOM checks and (optionally) a PNG."""
        return asyncio.run(self._visit(url, screenshot, width, run))

    async def _visit(self, url: str, screenshot: bool, width: int | None = None,
                     run: str | None = None) -> dict:
        from tornado.websocket import websocket_connect

        ws = await websocket_connect(self._page_ws(), max_message_size=256 * 1024 * 1024)
        counter = iter(range(1, 1_000_000))
        events: list[dict] = []

        async def call(method: str, **params) -> dict:
            mid = next(counter)
            await ws.write_message(json.dumps({"id": mid, "method": method, "params": params}))
            while True:
                raw = await asyncio.wait_for(ws.read_message(), timeout=60)
                if raw is None:
                    raise RuntimeError("DevTools connection closed")
                msg = json.loads(raw)
                if msg.get("id") == mid:
                    if "error" in msg:
                        raise RuntimeError(f"{method}: {msg['error']}")
                    return msg.get("result", {})
                events.append(msg)

        async def wait_event(name: str, timeout: float = 60) -> None:
            deadline = time.monotonic() + timeout
            while not any(e.get("method") == name for e in events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {name} within {timeout} s")
                raw = await asyncio.wait_for(ws.read_message(), timeout=left)
                if raw is None:
                    raise RuntimeError("DevTools connection closed")
                events.append(json.loads(raw))

        try:
            await call("Network.enable")
            await call("Page.enable")
            await call("Network.setCacheDisabled", cacheDisabled=True)
            if width:
                await call("Emulation.setDeviceMetricsOverride", width=width, height=800,
                           deviceScaleFactor=1, mobile=True)
            else:
                await call("Emulation.clearDeviceMetricsOverride")
            await call("Page.navigate", url=url)
            await wait_event("Page.loadEventFired")
            await asyncio.sleep(0.5)  # late requests (lazy images, fonts) would show up here
            ran = None
            if run:
                ran = (await call("Runtime.evaluate", expression=run, returnByValue=True)
                       )["result"].get("value")
            res = await call("Runtime.evaluate", expression=CHART_JS, returnByValue=True)
            dom = json.loads(res["result"]["value"])
            png = None
            if screenshot:
                clip = {"x": 0, "y": 0, "width": width or 1000, "height": dom["height"],
                        "scale": 1}
                shot = await call("Page.captureScreenshot", format="png",
                                  captureBeyondViewport=True, clip=clip)
                png = base64.b64decode(shot["data"])
        finally:
            ws.close()
        requests = [e["params"]["request"]["url"] for e in events
                    if e.get("method") == "Network.requestWillBeSent"]
        return {"requests": requests, "dom": dom, "png": png, "ran": ran}


def remote_requests(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(LOCAL_SCHEMES)]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """One demo report rendered in a temporary project (demo data generated there)."""
    from rehab import demo
    from rehab.report.index import write_index
    from rehab.report.render import render_month

    root = tmp_path_factory.mktemp("browser-project")
    demo.generate(root / "data" / "sample")
    path = render_month("demo", "2026-05", root=root)
    write_index(root=root)
    return path


def test_report_draws_every_chart_offline(rendered, tmp_path):
    with Chromium(tmp_path / "profile") as browser:
        seen = browser.visit(rendered.as_uri(), screenshot=True)
        # Control: the same page plus one remote image must be caught by the same check.
        control = tmp_path / "control.html"
        control.write_text(rendered.read_text(encoding="utf-8").replace(
            "</main>", '<img src="http://example.invalid/pixel.png" alt=""></main>'),
            encoding="utf-8")
        caught = browser.visit(control.as_uri())
        index = browser.visit((rendered.parent.parent / "index.html").as_uri())

    assert remote_requests(seen["requests"]) == [], seen["requests"]
    assert remote_requests(caught["requests"]) == ["http://example.invalid/pixel.png"]
    assert remote_requests(index["requests"]) == []

    dom = seen["dom"]
    names = [c["name"] for c in dom["charts"]]
    assert names == ["calendar", "adherence", "volume", "load", "tests-s",
                     "curve-sorensen_hold", "pain", "session-pain"]
    for chart in dom["charts"]:
        assert chart["svgs"] == 1, chart
        assert chart["width"] > 200 and chart["height"] > 100, chart
        # the adherence chart, the smallest, has a bar and a tick per ISO week: 8 to 10 marks
        assert chart["drawn"] >= 8 and chart["drawn"] > 0.8 * chart["marks"], chart
    assert dom["svgs_total"] == len(names)
    assert dom["scripts"] == 0 and dom["code_cells"] == 0
    assert dom["demo_visible"]
    assert "not medical advice" in dom["text"]
    assert "from rehab" not in dom["text"] and "MonthReport" not in dom["text"]
    assert index["dom"]["demo_visible"]
    assert "May 2026" in index["dom"]["text"]

    assert seen["png"][:8] == b"\x89PNG\r\n\x1a\n"
    out = os.environ.get("REHAB_SCREENSHOT")  # set to keep the picture for a look
    if out:
        Path(out).write_bytes(seen["png"])


def test_every_page_fits_a_400px_screen(rendered, tmp_path):
    """At 400 px wide nothing scrolls sideways: charts scale down, wide tables fold into cards,
    the caseload folds into one card a person; the comparison page too."""
    from rehab.report.comparison import render_comparison
    from rehab.report.course import write_course

    root = rendered.parent.parent.parent
    course = write_course(root, "demo")
    compare = render_comparison(participant="demo", root=root).path
    index = rendered.parent.parent / "index.html"
    with Chromium(tmp_path / "profile") as browser:
        seen = {"-".join(p.relative_to(root / "reports").parts):
                browser.visit(p.as_uri(), width=400, screenshot=True)
                for p in (rendered, course, index, compare)}
    assert len(seen) == 4
    for name, s in seen.items():
        dom = s["dom"]
        assert dom["view_width"] == 400, name
        assert dom["scroll_width"] <= dom["view_width"], (name, dom["scroll_width"],
                                                            dom["wider"])
        assert remote_requests(s["requests"]) == [], name
        for chart in dom["charts"]:
            assert 0 < chart["width"] <= 400, (name, chart)
        out = os.environ.get("REHAB_SCREENSHOT_DIR")  # set to keep the pictures for a look
        if out:
            (Path(out) / f"400-{name}.png").write_bytes(s["png"])


SORT_JS = """
(() => {
  const order = () => Array.from(document.querySelectorAll('.cl-row'))
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map(r => r.dataset.person);
  const seen = {start: order()};
  for (const id of ['sort-last-a', 'sort-person-d']) {
    document.querySelector(`label[for=${id}]`).click();
    seen[id] = order();
  }
  return JSON.stringify(seen);
})()
"""


def test_caseload_sorts_by_a_click_without_a_script(tmp_path):
    """A click on a column's arrow reorders the rows (radio button + CSS order), with no script
    in the page; the clinic persona's people sorted by their last log, counted from the rows."""
    import csv
    import shutil

    from rehab.report.index import write_index

    root = tmp_path / "clinic"
    shutil.copytree(Path(__file__).parent / "personas" / "clinic", root)
    index = write_index(root=root)
    last: dict[str, str] = {}
    for f in (root / "data" / "raw").glob("*.csv"):
        if f.name.startswith("phases"):
            continue
        with open(f, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                last[r["participant"]] = max(last.get(r["participant"], ""), r["date"])
    with Chromium(tmp_path / "profile") as browser:
        seen = browser.visit(index.as_uri(), run=SORT_JS)
    order = json.loads(seen["ran"])
    assert seen["dom"]["scripts"] == 0
    assert order["sort-last-a"] == sorted(last, key=lambda p: (last[p], p))
    assert order["sort-person-d"] == sorted(last, reverse=True)
    assert sorted(order["start"]) == sorted(last)
