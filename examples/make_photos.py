"""Draws the neutral placeholder ID photos that examples/roster.csv refers to.

Run from anywhere: ``.venv/bin/python examples/make_photos.py``. Each photo is a
plain ID-photo background with a head-and-shoulders silhouette; colours are
derived from the file name, so reruns produce the same pictures.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

HERE = Path(__file__).resolve().parent
SIZE = (105, 147)  # width x height in pixels, the usual 1-inch ID photo at low resolution

# Backgrounds used for Chinese ID photos: blue, white, red, light grey.
BACKGROUNDS = [(67, 142, 219), (245, 245, 245), (214, 60, 55), (205, 210, 215)]
SKIN = [(241, 204, 178), (224, 179, 144), (198, 148, 112), (171, 122, 88), (232, 190, 160)]
HAIR = [(25, 22, 20), (48, 36, 28), (74, 52, 36), (20, 20, 30), (95, 70, 50)]
CLOTHES = [(30, 40, 70), (60, 60, 60), (240, 240, 240), (120, 30, 40), (40, 90, 70), (80, 80, 120)]


def draw_photo(key: str) -> Image.Image:
    """One portrait; ``key`` (the file name) picks the colours and proportions."""
    seed = hashlib.sha256(key.encode()).digest()
    background = BACKGROUNDS[seed[0] % len(BACKGROUNDS)]
    skin, hair = SKIN[seed[1] % len(SKIN)], HAIR[seed[2] % len(HAIR)]
    clothes = CLOTHES[seed[3] % len(CLOTHES)]
    if clothes == background:
        clothes = CLOTHES[0]
    w, h = SIZE
    img = Image.new("RGB", SIZE, background)
    d = ImageDraw.Draw(img)
    # A faint vertical shade, as studio backgrounds have.
    for y in range(h):
        k = 1.0 - 0.12 * y / h
        d.line([(0, y), (w, y)], fill=tuple(int(c * k) for c in background))
    head_w = 40 + seed[4] % 8
    head_h = 50 + seed[5] % 8
    cx, top = w // 2, 30 + seed[6] % 6
    long_hair = seed[7] % 2 == 0
    if long_hair:
        d.rounded_rectangle(
            [cx - head_w // 2 - 5, top - 4, cx + head_w // 2 + 5, top + head_h + 22],
            radius=18,
            fill=hair,
        )
    # Shoulders and neck.
    d.ellipse([cx - 55, top + head_h + 12, cx + 55, top + head_h + 110], fill=clothes)
    d.rectangle([cx - 9, top + head_h - 10, cx + 9, top + head_h + 20], fill=skin)
    d.polygon(
        [(cx - 10, top + head_h + 14), (cx + 10, top + head_h + 14), (cx, top + head_h + 30)],
        fill=skin,
    )
    # Head, then hair over its top.
    d.ellipse([cx - head_w // 2, top, cx + head_w // 2, top + head_h], fill=skin)
    d.chord(
        [cx - head_w // 2 - 2, top - 6, cx + head_w // 2 + 2, top + head_h // 2 + 8],
        180,
        360,
        fill=hair,
    )
    img = img.filter(ImageFilter.SMOOTH)
    # A little sensor grain, so the file looks (and weighs, a few KB) like a scanned photo.
    grain = Image.effect_noise(SIZE, 24).convert("RGB")
    return Image.blend(img, grain, 0.08)


def photo_paths(roster: Path) -> list[str]:
    with roster.open(encoding="utf-8-sig", newline="") as f:
        return [row["photo"] for row in csv.DictReader(f) if row["photo"].strip()]


def main() -> None:
    roster = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "roster.csv"
    for rel in photo_paths(roster):
        target = roster.parent / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        draw_photo(target.name).save(target, "JPEG", quality=90)
    print(f"wrote {len(photo_paths(roster))} photos next to {roster}")


if __name__ == "__main__":
    main()
