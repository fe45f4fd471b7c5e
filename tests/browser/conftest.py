"""A real server (real models, a fresh data dir built from seeds/) driven by Debian's
chromium through Playwright. One server and one browser serve the whole session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ..servers import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
OUT = ROOT / "test-output"
SHOTS = OUT / "screenshots"
CHROMIUM = os.environ.get("RAG_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
ADMIN_TOKEN = "browser-test-token"
START_TIMEOUT_S = 240  # models load, seeds are indexed, the generator warms up


class Server:
    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token
        self.http = httpx.Client(base_url=url, timeout=60)

    def admin(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def article_ids(self) -> set[str]:
        return {a["id"] for a in self.http.get("/articles").raise_for_status().json()}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    port = free_port()
    data = tmp_path_factory.mktemp("browser-data")
    OUT.mkdir(exist_ok=True)
    log_path = OUT / "browser-server.log"
    env = {**os.environ, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port), "RAG_DATA_DIR": str(data),
           "RAG_SEEDS_DIR": str(SEEDS), "RAG_ADMIN_TOKEN": ADMIN_TOKEN,
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "serve"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, log_path, START_TIMEOUT_S)
        srv = Server(url, ADMIN_TOKEN)
        yield srv
        srv.http.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    # Missing chromium is a failure, not a skip: CI installs it (`make chromium`).
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (`make chromium`)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # the CPU is shared: slow is not broken

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def context(browser, server):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800},
                              color_scheme="light")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page that records script errors and any dialog (none should ever open)."""
    pg = context.new_page()
    pg.errors, pg.dialogs = [], []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    assert pg.errors == [], f"script errors on the page: {pg.errors}"


@pytest.fixture(scope="session")
def shot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
