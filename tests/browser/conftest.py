"""Headless Chromium for the browser tests: Debian's `chromium` package driven by
Playwright, which is pointed at that executable and never downloads a browser.

Without chromium the tests are skipped, saying how to install it, except in CI
(CI=true), where they fail: there `.ci/run` installs it, so its absence is a bug.
Screenshots go to $ECR_CLEANER_SCREENSHOTS when set (`make screenshots`: docs/images).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

INSTALL = "apt-get install -y chromium (as root; `make browser-test` does it)"


def chromium_path() -> str | None:
    configured = os.environ.get("ECR_CLEANER_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is missing, and CI must run the browser tests: {INSTALL}")
        pytest.skip(f"chromium is not installed: {INSTALL}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page, every request it made, and everything that went wrong on it."""

    page: Any
    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = Watched(page)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            seen.problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda response: (
            seen.problems.append(f"{response.status} for {response.url}")
            if response.status >= 400
            else None
        ),
    )

    def dialog(box: Any) -> None:  # an alert() would mean markup from the data ran
        seen.problems.append(f"dialog: {box.message}")
        box.dismiss()

    page.on("dialog", dialog)
    yield seen
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    configured = os.environ.get("ECR_CLEANER_SCREENSHOTS")
    if not configured:
        return tmp_path
    path = Path(configured)
    path.mkdir(parents=True, exist_ok=True)
    return path
