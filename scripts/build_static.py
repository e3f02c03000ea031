#!/usr/bin/env python3
"""Write content-hashed, precompressed copies of static/ into build/static/ (gitignored), and their manifest.

Run by `make vendor` after scripts/vendor.py. The app serves them with WhiteNoise and a year's immutable
caching, and `url_for('static', filename='css/app.css')` answers the hashed name (pcso/assets.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pcso.assets import build  # noqa: E402  (after the path is set)


def main() -> int:
    out = ROOT / "build" / "static"
    names = build(ROOT / "static", out)
    compressed = sum(1 for p in out.rglob("*") if p.suffix in (".br", ".gz"))
    print(f"build_static: {len(names)} files hashed, {compressed} compressed copies -> build/static/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
