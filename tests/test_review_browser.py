"""Issue 20, point 4: the review page in a real browser (headless Chromium driven by
Selenium): verdicts by keyboard, kept over a reload, exported, imported, figures checked."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip: selenium)")
if not (CHROMIUM and DRIVER):
    pytest.skip(
        "headless Chromium not available: install Debian's chromium and chromium-driver "
        "(scripts/setup_env.sh does where it may)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(real_build: Path, sample_data: Path, tmp_path_factory) -> tuple[Path, Path]:
    """(copy of the real build, its 120-item review page)."""
    from pipeline.review.run import write_review_page

    root = tmp_path_factory.mktemp("browser")
    out = root / "out"
    shutil.copytree(real_build, out)
    write_review_page(out, root / "page", 120, 0, images_dir=sample_data / "coco" / "val2017")
    return out, root / "page" / "review.html"


@pytest.fixture
def browser(tmp_path: Path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,900"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait_for(check, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def finished_download(folder: Path, lines: int) -> tuple[Path, list[dict]] | None:
    """(file, rows) once Chromium has written the whole export, else None. Chromium may
    create the file under its final name before the bytes arrive, so an existing but empty
    or partial file is not yet the download."""
    if list(folder.glob("*.crdownload")):
        return None
    for path in folder.glob("*.jsonl"):
        text = path.read_text()
        if text.endswith("\n") and len(text.splitlines()) == lines:
            return path, [json.loads(line) for line in text.splitlines()]
    return None


def test_review_round_in_chromium(page, browser, cli):
    out, html = page
    browser.get(html.as_uri())
    # Every image decoded (a broken data URI has naturalWidth 0), on all 120 items.
    sizes = browser.execute_script(
        "return Promise.all(JSON.parse(document.getElementById('review-data').textContent)"
        ".images.map(src => new Promise(ok => { const i = new Image(); "
        "i.onload = () => ok(i.naturalWidth); i.onerror = () => ok(0); i.src = src; })))"
    )
    assert sizes and all(w > 0 for w in sizes)
    assert len(browser.execute_script("return window.msgReview.items")) == 120
    first = browser.find_element(By.ID, "item-id").text
    assert browser.find_elements(By.CSS_SELECTOR, "#stage .box span")  # boxes with labels
    browser.find_element(By.ID, "reviewer").send_keys("ann")
    body = browser.find_element(By.TAG_NAME, "body")
    browser.find_element(By.ID, "note").send_keys(Keys.ESCAPE)
    body.send_keys("w")  # item 1 wrong
    body.send_keys("c")  # item 2 correct
    browser.find_element(By.ID, "note").send_keys("two cups, not one", Keys.ESCAPE)
    body.send_keys("3")  # item 3 ambiguous, by number
    body.send_keys("u")  # item 4 unanswerable
    assert browser.find_element(By.ID, "progress").text.startswith("4 of 120")
    browser.refresh()
    assert browser.find_element(By.ID, "progress").text.startswith("4 of 120")
    assert browser.find_element(By.ID, "reviewer").get_attribute("value") == "ann"
    browser.find_element(By.ID, "export").click()
    exported, rows = wait_for(lambda: finished_download(browser.downloads, lines=4))
    assert [r["verdict"] for r in rows] == ["wrong", "correct", "ambiguous", "unanswerable"]
    assert rows[0]["id"] == first and all(r["reviewer"] == "ann" for r in rows)
    assert rows[2]["note"] == "two cups, not one"
    code, _, err = cli("review", out, "--import", exported)
    assert code == 0, err
    review = json.loads((out / "audit" / "metrics.json").read_text())["human_review"]
    assert review["overall"]["reviewed"] == 4 and review["overall"]["wrong"] == 1
    assert review["overall"]["error_rate"] == 0.25
    assert review["reviewers"] == ["ann"]
