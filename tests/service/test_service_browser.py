"""The page in a real browser: a firm logs in with its token, approves a transfer with the
page's button, and the API then shows the transfer approved. Debian's chromium and
chromedriver, headless (the Makefile installs them)."""

from __future__ import annotations

import os
import shutil

import pytest

from invswarm.engine.models.network import electronics_doc
from invswarm.engine.service import ServiceConfig, create_app
from invswarm.engine.service.demo import load_instance_doc

from .conftest import OP, OPERATOR
from .live import serving
from .world import ok

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


@pytest.fixture
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        if os.environ.get("CI"):
            raise AssertionError(f"{CHROMIUM} and {DRIVER} are needed (make installs them)")
        pytest.skip("no chromium / chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.slow
def test_a_firm_approves_on_its_page(browser, tmp_path):
    from fastapi.testclient import TestClient
    from selenium.webdriver.common.by import By

    app = create_app(ServiceConfig(db_url=f"sqlite:///{tmp_path / 'ui.db'}",
                                   operator_token=OPERATOR, method="greedy"), worker=False)
    api = TestClient(app)
    tokens = load_instance_doc(api, OPERATOR, electronics_doc())
    app.state.planner.plan("browser test")
    proposed = ok(api.get("/transfers?state=proposed", headers=OP))["items"]
    tr = next(t for t in proposed if t["donor"] == "Aurora")
    token = tokens["Aurora"]
    aurora = ok(api.get("/me", headers={"Authorization": f"Bearer {token}"}))["firm_id"]
    with serving(app) as base:
        browser.get(f"{base}/ui")
        browser.find_element(By.ID, "token").send_keys(token)
        browser.find_element(By.ID, "login").click()
        # Each click loads a new page: read the new one, not the old one while it goes away.
        assert _shown(browser, By.TAG_NAME, "h1", "Aurora") == "Aurora"
        row = _shown(browser, By.ID, f"transfer-{tr['id']}", "proposed")
        assert f"{tr['qty']:,.2f}" in row and "proposed" in row
        browser.find_element(By.ID, f"approve-{tr['id']}").click()
        assert "approved" in _shown(browser, By.ID, f"transfer-{tr['id']}", "approved")
        assert not browser.find_elements(By.ID, f"approve-{tr['id']}")
        # INVSWARM_SCREENSHOT=docs/service-page.png: the README's picture of the page
        browser.save_screenshot(os.environ.get("INVSWARM_SCREENSHOT",
                                               str(tmp_path / "page.png")))
    assert ok(api.get(f"/transfers/{tr['id']}", headers=OP))["state"] == "approved"
    log = ok(api.get("/audit?limit=1000", headers=OP))["items"]
    approve = [e for e in log if e["action"] == "transfer.approve"]
    assert len(approve) == 1 and approve[0]["actor"] == f"firm:{aurora}"


def _shown(browser, by, value: str, want: str, seconds: float = 10.0) -> str:
    """The text of the element ``(by, value)`` once it contains ``want`` (what it shows after
    ``seconds`` otherwise, for the caller's assertion to report), read again while a page
    load replaces the element."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def text(driver):
        return driver.find_element(by, value).text

    try:
        WebDriverWait(browser, seconds, ignored_exceptions=(WebDriverException,)).until(
            lambda d: want in text(d))
    except WebDriverException:  # the wait's timeout too
        pass
    return text(browser)
