"""The console in a real browser (headless Chromium through Selenium and Debian's chromium-driver), on a store filled
by ``zonecase demo``: an inspector signs in, opens a zone, reads its timeline, goes back to an earlier date and sees
the earlier status, sees the assessment chart and its table, verifies the latest event (✓); once the latest event's
body is edited in the database, verifying shows ✗; an applicant sees only its own zones and no objector, and its
badge, which may not read an objection's record, says it checked the inclusion only; dynamic management shows the
granted zone's ratings and its figures against the plan, a chart per measure, for another year too; after signing
out the console leads to the sign-in page. Every page is checked with axe-core (npm, installed into a git-ignored
folder) for violations of impact serious or critical; screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
from .test_board_browser import ARTIFACTS

pytestmark = pytest.mark.browser
AXE_VERSION = "4.10.2"
AXE_DIR = Path(__file__).resolve().parent / ".axe"  # git-ignored


def axe_source() -> str:
    """axe-core's script, installed with npm at test time (pinned)."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm for axe-core")
        AXE_DIR.mkdir(exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(AXE_DIR),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return script.read_text()


AXE_RUN = (
    "const done = arguments[arguments.length - 1];"
    "axe.run(document).then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length])))"
    ".catch(e => done([['error', String(e), 0]]));"
)


CHART_OVERFLOW = (
    "return [...document.querySelectorAll('svg.chart')].flatMap(svg => {"
    " const width = svg.viewBox.baseVal.width;"
    " return [...svg.querySelectorAll('text')].map(t => [svg.id, t.textContent, t.getBBox()])"
    " .filter(([, , b]) => b.x < 0 || b.x + b.width > width).map(([id, text, b]) => [id, text, b.x, b.width]); })"
)


def accessible(driver: Any, name: str) -> None:
    """Injects axe-core into the page and asserts no violation of impact serious or critical, and that no chart's
    text runs off the chart; saves a screenshot."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))
    assert not driver.execute_script(CHART_OVERFLOW), (name, driver.execute_script(CHART_OVERFLOW))
    driver.execute_script(axe_source())
    result = driver.execute_async_script(AXE_RUN)
    bad = [v for v in result if v[1] in ("serious", "critical") or v[0] == "error"]
    assert not bad, (name, bad)


def sign_in(driver: Any, base: str, token: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base}/console/sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 10).until(
        lambda b: not b.current_url.endswith("/sign-in") or b.find_elements(By.CLASS_NAME, "error")
    )
    assert not driver.find_elements(By.CLASS_NAME, "error"), driver.find_element(By.CLASS_NAME, "error").text


def test_the_console_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    env = clean_env(
        ZONECASE_DATABASE_URL=store,
        ZONECASE_DATA_DIR=str(tmp_path / "data"),
        ZONECASE_JWT_SECRET=SECRET,
        ZONECASE_SCHEDULER_INTERVAL="0",
    )
    subprocess.run([sys.executable, "-m", "zonecase", "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    with served_process(env, tmp_path) as base:
        # no tree head is signed yet: the badge asks for the first one covering the event (the service signs it)
        assert httpx.get(f"{base}/checkpoints/latest").status_code == 404

        browser.get(f"{base}/console/zones")
        assert browser.current_url.endswith("/console/sign-in?next=%2Fconsole%2Fzones")  # back there after
        accessible(browser, "sign-in")
        sign_in(browser, base, mint_token(SECRET, sub="u-insp", role="inspector", org="dg-audit", name="Inspector"))
        assert browser.current_url.endswith("/console/zones")
        assert len(browser.find_elements(By.CSS_SELECTOR, "tr.zone-row")) == 4
        accessible(browser, "zones")
        elsewhere = next(  # a zone of another town than the applicant's below
            r.find_element(By.TAG_NAME, "a").get_attribute("href")
            for r in browser.find_elements(By.CSS_SELECTOR, "tr.zone-row")
            if "nancheng" not in r.text
        )
        browser.get(f"{base}/console/zones/00000000-0000-4000-8000-000000000000")  # the error page, too
        assert "未找到 Not found (404)" in browser.find_element(By.TAG_NAME, "h1").text
        accessible(browser, "not-found")
        browser.get(f"{base}/console/zones")

        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "tr.zone-row") if "公示中" in r.text)
        row.find_element(By.TAG_NAME, "a").click()
        WebDriverWait(browser, 10).until(lambda b: "/console/zones/" in b.current_url)
        assert "公示中 in notice" in browser.find_element(By.ID, "zone-status").text
        timeline = browser.find_elements(By.CSS_SELECTOR, "ol.timeline > li")
        assert len(timeline) >= 11 and "提交申请 applied" in timeline[0].text
        assert browser.find_element(By.ID, "indicator-chart").is_displayed()
        assert len(browser.find_elements(By.CSS_SELECTOR, "#indicator-table tbody tr")) == 25
        assert "李雷" in browser.page_source  # an inspector sees the objector
        accessible(browser, "zone")

        browser.find_element(By.ID, "verify-zone").click()
        output = browser.find_element(By.ID, "verify-result")
        WebDriverWait(browser, 20).until(lambda _: {"ok", "failed"} & set(output.get_attribute("class").split()))
        assert output.text.startswith("✓"), (output.text, browser.get_log("browser"))
        assert "content recomputes to the hash shown" in output.text
        assert "the first signed tree head that covers it" in output.text
        assert httpx.get(f"{base}/checkpoints/latest").status_code == 200  # signed for the proof: now the latest
        browser.save_screenshot(str(ARTIFACTS / "console-zone-verified.png"))

        # an attacker with the database edits the latest event's body (the objection's text), leaving its hash
        button = browser.find_element(By.ID, "verify-zone")
        zone_id, seq = UUID(button.get_attribute("data-zone-id")), int(button.get_attribute("data-seq"))
        edit_stored_state(store, zone_id, seq, lambda s: s.replace("数据偏高".encode(), "数据偏低".encode(), 1))
        browser.refresh()
        browser.find_element(By.ID, "verify-zone").click()
        output = browser.find_element(By.ID, "verify-result")
        WebDriverWait(browser, 20).until(lambda _: {"ok", "failed"} & set(output.get_attribute("class").split()))
        assert output.text.startswith("✗") and "does not match its hash (altered)" in output.text, output.text
        browser.save_screenshot(str(ARTIFACTS / "console-zone-tampered.png"))

        day = browser.find_element(By.ID, "as-of")
        browser.execute_script("arguments[0].value = '2024-03-12'", day)
        browser.find_element(By.ID, "as-of-go").click()
        WebDriverWait(browser, 10).until(lambda b: "as_of=" in b.current_url)
        assert "as_of=2024-03-12" in browser.current_url
        assert "过去的状态 as of 2024-03-12" in browser.find_element(By.ID, "as-of-banner").text
        assert "创建期 in creation" in browser.find_element(By.ID, "zone-status").text
        accessible(browser, "zone-as-of")
        for page in ("deadlines", "inspection"):  # the pages across zones
            browser.get(f"{base}/console/{page}")
            assert browser.current_url.endswith(f"/console/{page}")
            accessible(browser, page)

        browser.find_element(By.CSS_SELECTOR, 'nav a[href="/console/dynamic"]').click()  # dynamic management
        WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/console/dynamic"))
        ratings = browser.find_elements(By.CSS_SELECTOR, "tr.rating-row")
        assert len(ratings) == 1 and "优秀 excellent" in ratings[0].text and "良好 good" in ratings[0].text
        assert browser.find_element(By.ID, "chart-revenue").is_displayed()
        assert "256.0 亿元" in browser.find_element(By.ID, "table-revenue").text
        year = browser.find_element(By.ID, "f-year")
        browser.execute_script("arguments[0].value = '2022'", year)
        year.find_element(By.XPATH, "ancestor::form").find_element(By.CSS_SELECTOR, "button").click()
        WebDriverWait(browser, 10).until(lambda b: "year=2022" in b.current_url)
        assert "✗ 未达标" in browser.find_element(By.ID, "table-new_platforms").text
        accessible(browser, "dynamic")
        as_of = browser.find_element(By.ID, "as-of")  # the same comparison as it stood on a past day
        browser.execute_script("arguments[0].value = '2022-06-30'", as_of)
        as_of.find_element(By.XPATH, "ancestor::form").find_element(By.CSS_SELECTOR, "button").click()
        WebDriverWait(browser, 10).until(lambda b: "as_of=2022-06-30" in b.current_url)
        assert "过去的状态 as of 2022-06-30" in browser.find_element(By.ID, "as-of-banner").text
        accessible(browser, "dynamic-as-of")

        browser.find_element(By.CSS_SELECTOR, ".who button").click()
        WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/console/sign-in"))
        assert browser.current_url.endswith("/console/sign-in")
        browser.get(f"{base}/console/zones")
        assert browser.current_url.endswith("/console/sign-in?next=%2Fconsole%2Fzones")  # back there after

        sign_in(browser, base, mint_token(SECRET, sub="u-nc", role="applicant", org="nancheng", name="Nancheng"))
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.zone-row")
        assert len(rows) == 2 and all("nancheng" in r.text for r in rows)
        accessible(browser, "zones-applicant")
        next(r for r in rows if "公示中" in r.text).find_element(By.TAG_NAME, "a").click()
        WebDriverWait(browser, 10).until(lambda b: "/console/zones/" in b.current_url)
        assert "营业收入数据偏高" in browser.page_source and "李雷" not in browser.page_source
        assert "li@example.org" not in browser.page_source
        # the latest event is the objection, whose record the applicant may not read: inclusion only, and it says so
        browser.find_element(By.ID, "verify-zone").click()
        output = browser.find_element(By.ID, "verify-result")
        WebDriverWait(browser, 20).until(
            lambda _: {"partial", "ok", "failed"} & set(output.get_attribute("class").split())
        )
        assert output.text.startswith("◐") and "was not recomputed" in output.text, output.text
        assert "partial" in output.get_attribute("class").split()
        accessible(browser, "zone-applicant")
        browser.get(f"{base}/console/dynamic")  # its own zones only: Nancheng holds no title, so none
        assert not browser.find_elements(By.CSS_SELECTOR, "tr.rating-row")
        accessible(browser, "dynamic-applicant")
        browser.get(elsewhere)  # another town's zone: a page saying so, not the zone
        assert "无权查看 Not permitted (403)" in browser.find_element(By.TAG_NAME, "h1").text
        assert "李雷" not in browser.page_source and "verify-zone" not in browser.page_source
        accessible(browser, "forbidden")
    if os.environ.get("ZONECASE_UPDATE_SCREENSHOTS") == "1":  # the README's pictures, renewed on request only
        docs = Path(__file__).resolve().parents[2] / "docs"
        for name in ("zones", "zone-verified", "zone-as-of", "dynamic"):
            shutil.copyfile(ARTIFACTS / f"console-{name}.png", docs / f"console-{name}.png")
