"""Secret values never reach a log line: the secrets rule applied to Python's logging in every entry point."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.log_redaction import install_log_redaction
from runtime.testing.specs import make_spec

KEY = "sk-canary-log-7d2e9f0a41"
TOKEN = "ghp_canaryLogToken9b3c2d"
PATCHWIRE = str(Path(sys.executable).with_name("patchwire"))


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines(monkeypatch) -> Iterator[Lines]:
    monkeypatch.setenv("ACME_API_KEY", KEY)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    factory = logging.getLogRecordFactory()
    handler, logger = Lines(), logging.getLogger("acme.sdk")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    install_log_redaction()
    install_log_redaction()  # once is enough: a second call wraps nothing again
    yield handler
    logger.removeHandler(handler)
    logging.setLogRecordFactory(factory)


def test_messages_args_and_tracebacks_are_masked(lines: Lines) -> None:
    log = logging.getLogger("acme.sdk")
    log.info("POST /v1/embed with key %s", KEY)
    log.info(f"token {TOKEN} refused")
    try:
        raise RuntimeError(f"upstream echoed Authorization: Bearer {KEY}")
    except RuntimeError as exc:
        log.exception("call failed: %s", exc)  # the arg only shows the key once formatted
    assert lines.lines[:2] == ["acme.sdk POST /v1/embed with key ***", "acme.sdk token *** refused"]
    assert lines.lines[2].startswith("acme.sdk call failed: upstream echoed Authorization: Bearer ***\nTraceback")
    assert lines.lines[2].endswith("RuntimeError: upstream echoed Authorization: Bearer ***")
    assert not [line for line in lines.lines if KEY in line or TOKEN in line]


def test_a_record_keeps_its_args_shape_for_formatters_that_read_them(lines: Lines) -> None:
    seen: list[logging.LogRecord] = []
    logger = logging.getLogger("acme.sdk")
    logger.addFilter(lambda record: seen.append(record) or True)
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/x?key={KEY}", "1.1", 200)  # uvicorn's access line
    logger.info("nothing secret here: %s", "ok")
    assert seen[0].args == ("127.0.0.1:5000", "GET", "/x?key=***", "1.1", 200)
    assert seen[1].args == ("ok",) and seen[1].msg == "nothing secret here: %s"
    assert lines.lines == ['acme.sdk 127.0.0.1:5000 - "GET /x?key=*** HTTP/1.1" 200', "acme.sdk nothing secret here: ok"]


def test_without_a_secret_in_the_environment_records_are_untouched(monkeypatch) -> None:
    for name in [n for n in os.environ if n.endswith(("_API_KEY", "_TOKEN"))]:
        monkeypatch.delenv(name)
    factory = logging.getLogRecordFactory()
    try:
        install_log_redaction()
        record = logging.getLogger("acme.sdk").makeRecord("acme.sdk", logging.INFO, __file__, 1, "v=%s", ("x",), None)
        assert (record.msg, record.args) == ("v=%s", ("x",))
    finally:
        logging.setLogRecordFactory(factory)


PLUGIN = '''
import logging
import os

from runtime import Component, RunContext, component
from runtime.testing.components import TextValue


@component(id="canary.chatty", version=1, title="Chatty")
class Chatty(Component):
    """A library that logs its request, key included, as some SDKs do at INFO or WARNING."""

    async def run(self, inputs: TextValue, ctx: RunContext) -> TextValue:
        logging.getLogger("acme.sdk").warning("POST https://api.acme.test key=%s", os.environ["ACME_API_KEY"])
        return TextValue(value=inputs.value)
'''


def test_patchwire_run_masks_what_a_library_logs(tmp_path: Path) -> None:
    plugin = tmp_path / "chatty_plugin.py"
    plugin.write_text(PLUGIN)
    spec = make_spec({"q": ("io.input", {"name": "query"}), "c": ("canary.chatty", {}), "out": ("io.output", {})},
                     [("q", "value", "c", "value"), ("c", "value", "out", "value")], name="chatty")
    path = tmp_path / "chatty.json"
    path.write_text(spec.model_dump_json())
    proc = subprocess.run([PATCHWIRE, "run", str(path), "--input", "query=hi", "--no-record", "--plugin", str(plugin),
                           "--plugin", "runtime.testing.components"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ACME_API_KEY": KEY})
    assert proc.returncode == 0, proc.stderr
    assert "POST https://api.acme.test key=***" in proc.stderr and KEY not in proc.stderr + proc.stdout


async def test_the_editor_masks_its_log_lines_from_start_up(fresh_database) -> None:
    from editor.startup import prepared_database

    factory = logging.getLogRecordFactory()
    try:
        async with prepared_database():
            assert getattr(logging.getLogRecordFactory(), "redacts_secrets", False)
    finally:
        logging.setLogRecordFactory(factory)
