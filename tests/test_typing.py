"""The channel and outbox seams type-check under ``mypy --strict`` (the README's Development line)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# charts.py is left out: matplotlib's date helpers carry no annotations.
STRICT = ["alerts/__init__.py", "alerts/message.py", "alerts/escape.py", "alerts/mailer.py", "alerts/channels",
          "alerts/outbox", "alerts/digest/build.py", "alerts/digest/render.py", "alerts/digest/themes.py",
          "alerts/digest/voice.py", "monitor/core/retry.py"]


def test_channel_and_outbox_seams_pass_mypy_strict(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        out, err, status = api.run(["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path),
                                    "--no-error-summary", *STRICT])
    finally:
        os.chdir(here)
    assert status == 0, out + err
