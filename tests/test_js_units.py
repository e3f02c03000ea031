"""The phone's JavaScript units (tests/js/*.test.js) under node's own test runner, as part of the suite."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_javascript_units_pass():
    node = shutil.which("node")
    assert node, "node is needed for the JavaScript unit tests (tests/js)"
    files = sorted(str(path) for path in (ROOT / "tests" / "js").glob("*.test.js"))
    assert files, "no JavaScript tests found"
    run = subprocess.run([node, "--test", *files], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout
