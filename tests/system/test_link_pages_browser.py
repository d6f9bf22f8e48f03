"""The mailed links open working pages, in a real browser: headless Debian Chromium.

Before, both links (password reset, email verification) opened a 404. Here the mail the
cluster's identity "sent" is read from its ``.eml`` file, its link opened in Chromium, the
form submitted as a person would, and the new password used to sign in over the API.

Chromium and its driver come from Debian's packages: when they are missing the fixture
installs them with apt-get (as ``make bench`` installs wrk), or fails saying how.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from .conftest import PrivateCluster, links, log_in, mailed_link, mails, register

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
OLD_PASSWORD, NEW_PASSWORD = "first-password-1", "second-password-2"
# Without these, Chromium phones Google's hosts at every start (refused on a closed network).
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def ensure_chromium() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    command = ([] if os.geteuid() == 0 else ["sudo", "-n"]) + INSTALL
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:  # the package lists may be missing or stale
        update = ([] if os.geteuid() == 0 else ["sudo", "-n"]) + ["apt-get", "update", "-q"]
        subprocess.run(update, env=env, capture_output=True, timeout=600, check=False)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            f"Chromium is missing and could not be installed; run: sudo {' '.join(INSTALL)}\n{done.stderr}"
        )


def chromium(*, javascript: bool) -> Iterator[WebDriver]:
    ensure_chromium()
    profile = tempfile.mkdtemp(prefix="aiorch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*QUIET_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    yield from chromium(javascript=True)


@pytest.fixture
def browser_without_js() -> Iterator[WebDriver]:
    yield from chromium(javascript=False)


# a fresh machine installs Chromium first (apt-get), which may take longer than the usual 300 s
@pytest.mark.timeout(1500)
def test_the_mailed_links_open_pages_that_set_the_new_password_and_confirm_the_address(
    cluster: PrivateCluster, browser: WebDriver, browser_without_js: WebDriver
) -> None:
    up = cluster.make("up", timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr
    base = cluster.url("identity")
    api = f"{base}/api/v1"
    address = "reader@example.com"
    registered = register(cluster, address, OLD_PASSWORD)
    assert registered.status_code in (201, 202), registered.text  # 202: registration that does not tell
    mail_dir = cluster.state_dir / "mail"
    before = mails(mail_dir)
    asked = httpx.post(f"{api}/auth/password-reset", json={"email": address}, timeout=30)
    assert asked.status_code == 202, asked.text

    link = mailed_link(mail_dir, address, "reset-password", since=before)
    assert link.startswith(f"{base}/reset-password#token=")
    page = httpx.get(link, timeout=30)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text), "loads from elsewhere"

    browser.get(link)
    # the token went from the fragment into the form (and out of the address bar)
    token_field = browser.find_element(By.ID, "token")
    assert token_field.get_attribute("value") == link.split("#token=", 1)[1]
    assert not token_field.is_displayed()
    assert "#token=" not in browser.current_url
    # a weak password is refused on the page, and the link still works after
    browser.execute_script("document.getElementById('new_password').removeAttribute('minlength')")
    browser.find_element(By.ID, "new_password").send_keys("short")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CLASS_NAME, "error"))
    )
    assert "at least 8 characters" in browser.find_element(By.CLASS_NAME, "error").text
    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(expected_conditions.title_contains("Your password is set"))
    # the page ran under its own CSP: nothing the browser refused
    refused = [e for e in browser.get_log("browser") if "Content Security Policy" in e.get("message", "")]
    assert refused == []

    assert log_in(cluster, address, OLD_PASSWORD).status_code == 401
    signed_in = log_in(cluster, address, NEW_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text

    # the verification link's page works without JavaScript too: the code is pasted from the link
    other = "second@example.com"
    second = register(cluster, other, OLD_PASSWORD)
    assert second.status_code in (201, 202), second.text
    access = log_in(cluster, other, OLD_PASSWORD).json()["access_token"]
    sent = httpx.post(f"{api}/auth/verify-email", headers={"Authorization": f"Bearer {access}"}, timeout=30)
    assert sent.status_code == 202, sent.text
    # Only the newest link issued works, and a sign-up may mail its own link after its answer,
    # so the links are tried newest first (a refused one spends nothing) until one confirms.
    tried: list[str] = []
    deadline = time.monotonic() + 30
    while "Your address is confirmed" not in browser_without_js.title:
        assert time.monotonic() < deadline, (
            f"none of the mailed links confirmed the address: {len(tried)} tried"
        )
        fresh = [link for link in links(mail_dir, other, "verify-email") if link not in tried]
        if not fresh:
            time.sleep(0.2)
            continue
        tried.append(fresh[0])
        # from the error page (also at /verify-email), a link would only change the fragment
        browser_without_js.get("about:blank")
        browser_without_js.get(fresh[0])
        code = browser_without_js.find_element(By.ID, "token")
        assert code.is_displayed()
        assert code.get_attribute("value") == ""  # no script ran
        code.send_keys(fresh[0].split("#token=", 1)[1])
        browser_without_js.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser_without_js, 30).until(
            lambda page: (
                "Your address is confirmed" in page.title or page.find_elements(By.CLASS_NAME, "error")
            )
        )
    me = httpx.get(f"{api}/users/me", headers={"Authorization": f"Bearer {access}"}, timeout=30)
    assert me.json()["email_verified"] is True, me.text

    # The API docs page renders identity's operations from the service's own assets (Swagger UI 5:
    # the version swagger-ui-bundle shipped, 3, answered "Unable to render this definition").
    browser.get(f"{base}/schema")
    WebDriverWait(browser, 30).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path"))
    )
    shown = {
        e.get_attribute("data-path") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert "/api/v1/auth/login" in shown
    assert "Unable to render" not in browser.page_source
