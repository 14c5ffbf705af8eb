#!/usr/bin/python3
"""The annotated edition in a real browser: every page of a built site opened from the disk.

    /usr/bin/python3 tests/site/check_site.py build/docs --screenshots /tmp/shots

scripts/docs.py builds the site; this is its test (the meson test 'site' runs both, see
tests/site/site_test.sh). It starts Debian's headless chromium with the network refused (a proxy
that is not there, and no host name resolving), drives it over the DevTools protocol through a
pipe (--remote-debugging-pipe: no port, no package beyond Python's own library), opens every
.html page of the site as a file:// URL at a desktop size of 1280×800, and reports a problem for:
  - any console error, and any error thrown by the page's scripts;
  - any request for a URL that is not file:// or data:, and any request that fails;
  - any <a href> inside the site to a file that does not exist, or to an #anchor that is not
    an id of its target page; any link leading out of the site's directory to another file;
  - any image that does not load (naturalWidth 0);
  - any KaTeX error (.katex-error), any math element KaTeX has not typeset, any literal $$
    left in the text (outside code, which may show $$ on purpose);
  - on an annotated page, any section whose prose does not stand to the left of its code.
It saves screenshots of the index, the BPTT chapter and the fused layer's page, lists each
problem as "page: what: detail", and ends with one summary line; it exits 1 on any problem.
"""
import argparse
import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

WIDTH, HEIGHT = 1280, 800
SCREENSHOTS = {"index.html": "index.png", "bptt.html": "bptt.png",
               "nn/fused_recurrent.cpp.html": "fused_recurrent.png"}
SCREENSHOT_HEIGHT = 2400  # at most: the top of the page, as a reader first sees it
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars",
    f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe",
]

# What a page tells about itself, once it has loaded and its fonts are ready. A link is the URL
# the browser resolved from its href (so relative links need no resolving here).
INSPECT = """(() => {
  // The page's text nodes, but those inside the elements `skip` selects: code shows $$ on
  // purpose, and typeset math keeps its TeX source (with no $$) hidden inside.
  const textOutside = skip => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode())
      if (!walker.currentNode.parentElement.closest(skip)) texts.push(walker.currentNode.data);
    return texts;
  };
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left, right: r.right, top: r.top, width: r.width}; };
  return {
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    images: [...document.images].map(i => ({src: i.currentSrc || i.src,
                                            loaded: i.complete && i.naturalWidth > 0})),
    katexErrors: [...document.querySelectorAll(".katex-error")].map(
        e => (e.getAttribute("title") || "") + " in " + e.textContent.slice(0, 80)),
    unrendered: [...document.querySelectorAll(".math")].filter(
        e => !e.querySelector(".katex") && !e.classList.contains("katex-error")).map(
        e => e.textContent.slice(0, 80)),
    dollars: textOutside("code, pre, script, style, .katex").filter(text => text.includes("$$")),
    sections: [...document.querySelectorAll("main.annotated .section")].map(s => {
      const prose = s.querySelector(":scope > .prose"), code = s.querySelector(":scope > .code");
      return {prose: prose && box(prose), code: code && box(code),
              text: (prose ? prose.innerText : "").trim().slice(0, 60)};
    }),
    height: document.documentElement.scrollHeight,
  };
})()"""


class Browser:
    """Headless chromium, spoken to over the DevTools protocol: JSON messages through a pipe,
    each ended by a NUL byte, on the file descriptors 3 (to chromium) and 4 (from it)."""

    def __init__(self, profile):
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # Keep the child's ends clear of 3 and 4 until they are moved there.
        keep = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]
        os.close(to_browser)
        os.close(from_browser)

        def child_ends():
            os.dup2(keep[0], 3)
            os.dup2(keep[1], 4)

        chromium = shutil.which("chromium") or sys.exit("check_site: chromium is not installed")
        self.process = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=child_ends, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in keep:
            os.close(fd)
        self._next_id, self._replies, self.events = 0, {}, queue.Queue()
        self._lock = threading.Condition()
        threading.Thread(target=self._listen, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH,
                  height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def _listen(self):
        buffer = b""
        while chunk := os.read(self._read, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in map(json.loads, messages):
                if "id" in message:
                    with self._lock:
                        self._replies[message["id"]] = message
                        self._lock.notify_all()
                else:
                    self.events.put(message)
        with self._lock:
            self._replies[None] = "closed"
            self._lock.notify_all()

    def call(self, method, session=False, timeout=60, **params):
        """Sends a command (to the page's session, or to the browser) and waits for its reply."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        data = json.dumps(message).encode() + b"\0"
        while data:  # a pipe may take a long message in parts
            data = data[os.write(self._write, data):]
        with self._lock:
            if not self._lock.wait_for(lambda: ident in self._replies or None in self._replies,
                                       timeout):
                raise RuntimeError(f"chromium did not answer {method} in {timeout} s")
            reply = self._replies.pop(ident, None)
        if reply is None:
            raise RuntimeError(f"chromium closed the pipe during {method}")
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the inspection failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url, timeout=60):
        """Loads url and returns the events that came with it (console, errors, requests)."""
        while not self.events.empty():
            self.events.get_nowait()
        self.call("Page.navigate", session=True, url=url)
        events, deadline = [], time.monotonic() + timeout
        while True:
            try:
                event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"{url} did not finish loading in {timeout} s") from None
            events.append(event)
            if event["method"] == "Page.loadEventFired":
                break
        self.evaluate("document.fonts.ready.then(() => new Promise(requestAnimationFrame))")
        while not self.events.empty():
            events.append(self.events.get_nowait())
        return events

    def screenshot(self, path, height):
        """The top `height` pixels of the page, seen through a window that tall (so that the
        reading path, fixed to the window, stands beside all of it)."""
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH,
                  height=height, deviceScaleFactor=1, mobile=False)
        self.evaluate("new Promise(requestAnimationFrame)")
        shot = self.call("Page.captureScreenshot", session=True, format="png")
        path.write_bytes(base64.b64decode(shot["data"]))
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH,
                  height=HEIGHT, deviceScaleFactor=1, mobile=False)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except RuntimeError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def event_problems(events):
    """The problems that the events of one page load report."""
    problems, urls = [], {}
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(("console error", text))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            problems.append(("page error", details.get("exception", {}).get(
                "description", details.get("text", ""))))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            problems.append(("console error", f"{entry['text']} {entry.get('url', '')}".strip()))
        elif method == "Network.requestWillBeSent":
            url = urls[params["requestId"]] = params["request"]["url"]
            if urllib.parse.urlsplit(url).scheme not in ("file", "data"):
                problems.append(("request off the disk", url))
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(("request failed", f"{urls.get(params['requestId'], '?')}: "
                             f"{params.get('errorText', '')}"))
    return problems


def page_problems(report):
    """The problems found in what one page tells about itself (INSPECT), links aside."""
    problems = [("image not loaded", image["src"]) for image in report["images"]
                if not image["loaded"]]
    problems += [("KaTeX error", error) for error in report["katexErrors"]]
    problems += [("math not typeset", tex) for tex in report["unrendered"]]
    problems += [("literal $$ in the text", line.strip()[:100]) for line in report["dollars"]]
    for section in report["sections"]:
        prose, code, where = section["prose"], section["code"], repr(section["text"])
        if not prose or not code or prose["width"] <= 0 or code["width"] <= 0:
            problems.append(("section without its two cells", where))
        elif prose["right"] > code["left"] + 0.5 or abs(prose["top"] - code["top"]) > 1:
            problems.append(("prose not to the left of its code", f"{where}: prose {prose}, "
                             f"code {code}"))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the built site (build/docs)")
    parser.add_argument("--screenshots", type=Path, required=True,
                        help="where the screenshots go (made if missing)")
    args = parser.parse_args()
    site = args.site.resolve()
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    if "index.html" not in pages:
        sys.exit(f"check_site: {site} has no index.html; is it a built site?")
    args.screenshots.mkdir(parents=True, exist_ok=True)

    problems, reports, link_count, image_count = [], {}, 0, 0
    with tempfile.TemporaryDirectory(prefix="check_site-") as profile:
        browser = Browser(profile)
        try:
            for page in pages:
                events = browser.open((site / page).as_uri())
                report = browser.evaluate(INSPECT)
                reports[page] = report
                problems += [(page, *p) for p in event_problems(events)]
                problems += [(page, *p) for p in page_problems(report)]
                image_count += len(report["images"])
                if page in SCREENSHOTS:
                    browser.screenshot(args.screenshots / SCREENSHOTS[page],
                                       min(report["height"], SCREENSHOT_HEIGHT))
        finally:
            browser.close()

    ids = {page: set(report["ids"]) for page, report in reports.items()}
    for page, report in reports.items():
        for link in report["links"]:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme != "file":
                continue  # a link to the web is not followed (and not a request)
            link_count += 1
            target = Path(urllib.parse.unquote(parts.path))
            if not target.is_relative_to(site):
                problems.append((page, "link out of the site", link))
            elif not target.is_file():
                problems.append((page, "broken link", link))
            elif parts.fragment:
                key = target.relative_to(site).as_posix()
                if urllib.parse.unquote(parts.fragment) not in ids.get(key, ()):
                    problems.append((page, "broken #anchor", link))

    for page, what, detail in problems:
        print(f"{page}: {what}: {detail}")
    missing = [name for page, name in SCREENSHOTS.items() if page not in reports]
    for name in missing:
        print(f"check_site: no page for the screenshot {name}")
    print(f"site: {len(pages)} pages, {link_count} links, {image_count} images checked; "
          f"{len(problems) + len(missing)} problems")
    return 1 if problems or missing else 0


if __name__ == "__main__":
    sys.exit(main())
