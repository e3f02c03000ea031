#!/usr/bin/env python3
"""Draw Beatbook's app icons (static/icons/*.png) from the favicon's design: a white "B" on navy.

Our own artwork, committed; run again only to change the design (needs Pillow, in requirements-dev.txt):
    .venv/bin/python scripts/make_icons.py
"any" icons have rounded corners; the maskable one and the Apple touch icon fill the square (the phone
crops them) with the letter inside the maskable safe zone (the centre circle of 80 % of the width).
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
NAVY, WHITE = (11, 37, 69, 255), (255, 255, 255, 255)
SUPERSAMPLE = 4


def letter(draw: ImageDraw.ImageDraw, unit: float, offset: float, colour_fg, colour_bg) -> None:
    """The favicon's "B" (drawn on a 32-unit grid), as rectangles and circles."""
    def box(x0, y0, x1, y1):
        return [offset + x0 * unit, offset + y0 * unit, offset + x1 * unit, offset + y1 * unit]

    def disc(cx, cy, r, fill):
        draw.ellipse(box(cx - r, cy - r, cx + r, cy + r), fill=fill)

    draw.rectangle(box(9, 7, 18, 27), fill=colour_fg)
    disc(18, 12, 5, colour_fg)
    disc(18.5, 21.5, 5.5, colour_fg)
    draw.rectangle(box(13, 11, 17, 14.5), fill=colour_bg)
    disc(17, 12.75, 1.75, colour_bg)
    draw.rectangle(box(13, 18.5, 18, 23), fill=colour_bg)
    disc(18, 20.75, 2.25, colour_bg)


def icon(size: int, *, rounded: bool, scale: float) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if rounded:
        draw.rounded_rectangle([0, 0, big - 1, big - 1], radius=big * 6 / 32, fill=NAVY)
    else:
        draw.rectangle([0, 0, big, big], fill=NAVY)
    unit = big / 32 * scale
    offset = (big - 32 * unit) / 2 + 0.5 * unit  # the letter's box (9..24.5) is centred on 16.75: nudge left
    letter(draw, unit, offset - 0.75 * unit, WHITE, NAVY)
    image = image.resize((size, size), Image.LANCZOS)
    return image if rounded else image.convert("RGB")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    made = {
        "icon-192.png": icon(192, rounded=True, scale=1.0),
        "icon-512.png": icon(512, rounded=True, scale=1.0),
        "icon-maskable-512.png": icon(512, rounded=False, scale=0.72),
        "apple-touch-icon.png": icon(180, rounded=False, scale=0.85),
    }
    for name, image in made.items():
        image.save(OUT / name, optimize=True)
    print("make_icons: " + ", ".join(f"{name} {(OUT / name).stat().st_size // 1024 or 1} KB" for name in made))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
