"""The notice board in a real browser (headless Chromium through Selenium and Debian's chromium-driver): a visitor
clicks "verify" on a real notice and sees ✓; once the stored notice is tampered with, the same click shows what
failed. A screenshot of the board is saved under tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.auth import mint_token

from ..e2e.conftest import SECRET
from ..e2e.conftest import clean_env
from ..e2e.conftest import served_process
from ..integration.tamper import edit_stored_state

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = pytest.mark.browser


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("ZONECASE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium and chromedriver are required (apt-get install chromium chromium-driver)")
        pytest.skip("needs chromium and chromium-driver (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1200,1600",
    ):
        options.add_argument(arg)
    options.add_argument("--lang=zh-CN")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


def verify_first(browser: Any, timeout: float = 20) -> tuple[str, str]:
    """Clicks the first verify button; waits for its result; returns (class, text)."""
    from selenium.webdriver.common.by import By

    button = browser.find_element(By.CSS_SELECTOR, ".verify-button")
    button.click()
    output = button.find_element(By.XPATH, "following-sibling::output")
    wait_for_result(browser, output, timeout)
    return output.get_attribute("class"), output.text


def wait_for_result(browser: Any, output: Any, timeout: float = 20) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(lambda _: {"ok", "failed"} & set(output.get_attribute("class").split()))


def test_a_visitor_verifies_a_notice_and_sees_a_tampered_one_fail(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = clean_env(
        ZONECASE_DATABASE_URL=url,
        ZONECASE_DATA_DIR=str(tmp_path / "data"),
        ZONECASE_JWT_SECRET=SECRET,
        ZONECASE_SCHEDULER_INTERVAL="0",
    )
    subprocess.run([sys.executable, "-m", "zonecase", "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    with served_process(env, tmp_path) as base:
        token = mint_token(SECRET, sub="u-bureau", role="bureau", org="dg-miit", name=None, now=None, hours=1)
        assert httpx.post(f"{base}/checkpoints", headers={"Authorization": f"Bearer {token}"}).status_code == 201
        browser.get(f"{base}/board")
        assert "公示栏" in browser.title
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "board.png"))
        kind, text = verify_first(browser)
        logs = browser.get_log("browser")
        assert "ok" in kind.split() and text.startswith("✓"), (text, logs)

        button = browser.find_element(By.CSS_SELECTOR, ".verify-button")
        zone_id, seq = UUID(button.get_attribute("data-zone-id")), int(button.get_attribute("data-seq"))
        # an attacker with the database edits one character of the published text
        marker = b'"text":"'
        edit_stored_state(url, zone_id, seq, lambda s: flip(s, s.index(marker) + len(marker) + 1))
        browser.refresh()
        kind, text = verify_first(browser)
        browser.save_screenshot(str(ARTIFACTS / "board-tampered.png"))
        assert "failed" in kind.split() and text.startswith("✗"), text
        assert "the text shown is not the recorded text" in text

        # a subtler edit leaves the text alone and changes what else the notice recorded: its hash no longer holds
        second = browser.find_elements(By.CSS_SELECTOR, ".verify-button")[1]
        zone_id, seq = UUID(second.get_attribute("data-zone-id")), int(second.get_attribute("data-seq"))
        edit_stored_state(url, zone_id, seq, lambda s: s.replace(b'"working_days":5', b'"working_days":4', 1))
        browser.refresh()
        second = browser.find_elements(By.CSS_SELECTOR, ".verify-button")[1]
        second.click()
        output = second.find_element(By.XPATH, "following-sibling::output")
        wait_for_result(browser, output)
        assert output.text.startswith("✗") and "does not match its hash" in output.text, output.text


def flip(state: bytes, i: int) -> bytes:
    return state[:i] + bytes([state[i] ^ 0x01]) + state[i + 1 :]
