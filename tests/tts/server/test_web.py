"""The web demo in a real headless Chromium (Debian's, driven by Playwright): upload a prompt,
add it to the library, speak, and check that audio streamed in, played, and became a file."""

import os
import shutil
from pathlib import Path

import pytest

from .conftest import prompt_wav

DEMO_WAV = Path(__file__).resolve().parents[3] / "demos" / "prompt.wav"
CHROMIUM = os.environ.get("PALETTE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        why = (
            f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run installs it when it can)"
        )
        if os.environ.get("PALETTE_BROWSER_TEST") == "required":
            pytest.fail(why)
        pytest.skip(why)
    try:
        from playwright import sync_api
    except ImportError:
        if os.environ.get("PALETTE_BROWSER_TEST") == "required":
            raise
        pytest.skip("playwright is not installed (it is in the dev extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--autoplay-policy=no-user-gesture-required",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                # the fake microphone plays the demo prompt (speech:
                # the prompt check refuses Chromium's default beep)
                f"--use-file-for-fake-audio-capture={DEMO_WAV}",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, make_server):
    url = make_server()
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/")
    page.wait_for_selector("#model:not(:empty)")
    yield page
    page.close()


def add_voice(page, tmp_path, name="Ada"):
    prompt = tmp_path / "ada.wav"
    prompt.write_bytes(prompt_wav(2.0))
    page.set_input_files("#prompt-file", str(prompt))
    page.fill("#transcript", "hello there")
    page.fill("#voice-name", name)
    page.click("#add-voice")
    page.wait_for_selector("#voices li[data-voice]")


def test_upload_speak_and_play(page, tmp_path):
    add_voice(page, tmp_path)
    assert "Ada" in page.inner_text("#voices")
    page.fill("#text", "Hello there. Nice to meet you.")
    page.click("#speak")
    page.wait_for_function("window.paletteStats.done")
    stats = page.evaluate("window.paletteStats")
    assert stats["received"] > 0.5 * 24000, stats  # over half a second of audio streamed in
    assert stats["scheduled"] == stats["received"]
    page.wait_for_function("window.paletteStats.played > 0")  # Web Audio actually played some
    duration = page.wait_for_function(
        "(() => { const a = document.getElementById('result'); return a.duration > 0 && a.duration; })()"
    ).json_value()
    assert abs(duration - stats["received"] / 24000) < 0.05
    assert page.get_attribute("#download", "href").startswith("blob:")
    assert page.is_hidden("#error")


def test_errors_are_shown_in_the_page(page, tmp_path):
    add_voice(page, tmp_path, name="Bo")
    page.fill("#text", "   ")
    page.click("#speak")
    page.wait_for_selector("#error:not([hidden])")
    assert "input is empty" in page.inner_text("#error")


def test_a_voice_can_be_deleted_from_the_library(page, tmp_path):
    add_voice(page, tmp_path, name="Cy")
    before = page.locator("#voices li[data-voice]").count()
    page.locator("#voices li[data-voice] button").last.click()
    page.wait_for_function(
        f"document.querySelectorAll('#voices li[data-voice]').length === {before - 1}"
    )


def test_a_recorded_prompt_becomes_a_voice(browser, make_server):
    """The microphone path with Chromium's fake capture device playing the demo prompt."""
    url = make_server()
    context = browser.new_context(permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url + "/")
    page.wait_for_selector("#model:not(:empty)")
    page.click("#record")
    page.wait_for_timeout(2500)
    page.click("#record")
    page.wait_for_selector("#record-status:has-text('recorded')")
    words = DEMO_WAV.with_suffix(".txt").read_text().split()
    page.fill("#transcript", " ".join(words[:7]))  # about what 2.5 s of the prompt says
    page.click("#add-voice")
    page.wait_for_selector("#voices li[data-voice]")
    assert page.is_hidden("#error")
    assert page.inner_text("#voices .name") == "recording"
    seconds = float(page.inner_text("#voices .id").split("·")[-1].strip().rstrip(" s"))
    assert 2.0 < seconds < 3.5
    context.close()
