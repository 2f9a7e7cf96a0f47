"""Headless Debian Chromium driven by Playwright, with a screenshot at every step.

Playwright's own browser download cannot work on our machines (they reach only the package
registries), so the Python package drives the system browser that `make e2e` installs.
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps opening connections that this
# closed network refuses. Playwright adds --headless and a fresh temporary --user-data-dir.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The Dagster UI is a React app that loads its data over GraphQL after the page: generous.
TIMEOUT_MS = 60_000


@dataclass
class Browser:
    page: Page
    artifacts: Path
    shots: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot named after the step, numbered in order."""
        path = self.artifacts / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


@contextmanager
def chromium(artifacts: Path) -> Iterator[Browser]:
    """A page in headless Chromium; on failure the last screen and its HTML are saved too."""
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            session = Browser(page=page, artifacts=artifacts)
            try:
                yield session
            except BaseException:
                with suppress(Exception):  # never hide the real failure behind this one
                    session.shot("failure")
                    (artifacts / "failure.html").write_text(page.content())
                raise
        finally:
            browser.close()
