"""A real page on another origin sends events to Tend the way analytics.js does, in headless
Chromium: ``fetch`` with JSON and Basic auth (preflighted), ``fetch`` with a ``text/plain``
body carrying ``writeKey`` (no preflight), a gzip body with ``Content-Encoding``, and
``navigator.sendBeacon`` to ``/v1/batch`` and ``/v1/track``. Every call resolves in the page
(no CORS error, so no SDK retry) and every event is stored exactly once; a page that calls the
REST API is blocked by the browser because ``/api/`` answers no CORS."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.testing import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = "<!doctype html><html><head><title>Shop</title></head><body>A shop</body></html>"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin(tmp_path: Path) -> Iterator[str]:
    """A plain web page served from 127.0.0.1 on its own port (Tend's live server is on
    localhost on another port: a different origin)."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text(PAGE)
    handler = partial(_QuietHandler, directory=str(tmp_path / "site"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(other_origin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API in pytest
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path="/usr/bin/chromium",
            args=CHROMIUM_ARGS,
            headless=True,
        )
        try:
            tab = browser.new_page()
            tab.set_default_timeout(15_000)
            tab.goto(f"{other_origin}/index.html")
            yield tab
        finally:
            browser.close()


FETCHES = """async ({tend, key}) => {
  const track = (id) => ({type: "track", userId: "u-1", event: "Viewed", messageId: id});
  const answers = {};
  // analytics.js style: JSON with the key as Basic user name (a preflighted request).
  let r = await fetch(tend + "/v1/track", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Basic " + btoa(key + ":")},
    body: JSON.stringify(track("json-basic")),
  });
  answers.json = [r.status, await r.json()];
  // text/plain with writeKey in the body: a simple request, no preflight.
  r = await fetch(tend + "/v1/batch", {
    method: "POST",
    headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({writeKey: key, batch: [track("text-plain")]}),
  });
  answers.text = [r.status, await r.json()];
  // gzip, as SDKs that compress send it.
  const gz = new Blob([JSON.stringify({batch: [track("gzip")]})])
    .stream().pipeThrough(new CompressionStream("gzip"));
  r = await fetch(tend + "/v1/batch", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Content-Encoding": "gzip",
              "Authorization": "Basic " + btoa(key + ":")},
    body: await new Response(gz).arrayBuffer(),
  });
  answers.gzip = [r.status, await r.json()];
  // A refusal is readable too, so an SDK can tell it from a network failure.
  r = await fetch(tend + "/v1/track", {
    method: "POST", headers: {"Content-Type": "text/plain"},
    body: JSON.stringify({...track("no-key")}),
  });
  answers.refused = [r.status, await r.json()];
  return answers;
}"""


def test_analytics_js_style_calls_from_another_origin_resolve_and_store_once(
    live_server: Any, page: Any, other_origin: str, owner: User
) -> None:
    key = apikey_create(name="shop", kind="write", by=owner)[1]
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    assert live_server.url.split(":")[:2] != other_origin.split(":")[:2]  # another origin

    answers = page.evaluate(FETCHES, {"tend": live_server.url, "key": key})

    # A cross-origin answer the browser did not allow would have rejected the promise.
    assert answers["json"] == [200, {"success": True}]
    assert answers["text"] == [200, {"success": True}]
    assert answers["gzip"] == [200, {"success": True}]
    assert answers["refused"][0] == 401
    assert answers["refused"][1]["error"]["code"] == "unauthorized"

    for path, message_id in (("/v1/batch", "beacon-batch"), ("/v1/track", "beacon-track")):
        track = {"type": "track", "userId": "u-1", "event": "Left", "messageId": message_id}
        body = (
            {"writeKey": key, "batch": [track]}
            if path == "/v1/batch"
            else {**track, "writeKey": key}
        )
        with page.expect_response(lambda r, p=path: r.url.endswith(p)) as beacon:
            queued = page.evaluate(
                "([url, body]) => navigator.sendBeacon(url, JSON.stringify(body))",
                [live_server.url + path, body],
            )
        assert queued is True
        assert beacon.value.status == 200

    stored = sorted(Event.objects.values_list("message_id", flat=True))
    assert stored == sorted(["json-basic", "text-plain", "gzip", "beacon-batch", "beacon-track"])
    assert not [line for line in console if "CORS" in line], console


def test_a_page_on_another_origin_cannot_read_the_rest_api(
    live_server: Any, page: Any, owner: User
) -> None:
    key = apikey_create(name="reports", kind="read", by=owner)[1]
    outcome = page.evaluate(
        """async ({url, key}) => {
          try {
            const r = await fetch(url, {headers: {"Authorization": "Bearer " + key}});
            return "read " + r.status;
          } catch (error) { return "blocked: " + error.name; }
        }""",
        {"url": f"{live_server.url}/api/v1/customers", "key": key},
    )
    assert outcome == "blocked: TypeError"
