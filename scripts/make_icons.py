"""Draw the web app's icons (static/icon-192.png, icon-512.png, icon-maskable-512.png).

Run once when the design changes and commit the PNGs: ``python scripts/make_icons.py``.
Deterministic (no Pillow, no randomness: the same bytes every run), so a test can check
the committed files are what this script draws. The picture is the station's accent
colour with a broadcast sign in white: a dot and two arcs on each side.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

ACCENT = (0xB3, 0x26, 0x1E)  # --accent in static/style.css, the manifest's theme_color
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4  # per axis: 16 samples a pixel smooth the edges
ICONS = (("icon-192.png", 192, False), ("icon-512.png", 512, False))
MASKABLE = ("icon-maskable-512.png", 512, True)


def coverage(x: float, y: float, maskable: bool) -> tuple[bool, bool]:
    """(inside the background, inside the white sign) at a point of the unit square.

    A maskable icon fills the square (the launcher cuts its own shape) and keeps the sign
    inside the central safe circle (radius 0.4); the plain one is a rounded square.
    """
    cx, cy = x - 0.5, y - 0.5
    if maskable:
        background = True
        scale = 0.7
    else:
        corner, half = 0.18, 0.5
        qx, qy = max(abs(cx) - (half - corner), 0.0), max(abs(cy) - (half - corner), 0.0)
        background = qx * qx + qy * qy <= corner * corner
        scale = 1.0
    r = math.hypot(cx, cy) / scale
    angle = abs(math.degrees(math.atan2(cy, abs(cx))))  # 0 along the horizontal, both sides
    sign = r <= 0.085 or (angle <= 45 and (0.17 <= r <= 0.23 or 0.30 <= r <= 0.36))
    return background, background and sign


def pixel(px: int, py: int, size: int, maskable: bool) -> bytes:
    alpha = white = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) / size
            y = (py + (sy + 0.5) / SAMPLES) / size
            inside, sign = coverage(x, y, maskable)
            alpha += inside
            white += sign
    n = SAMPLES * SAMPLES
    if alpha == 0:
        return b"\0\0\0\0"
    mix = white / alpha  # colour of the covered part; alpha carries the edge
    rgb = bytes(round(a + (b - a) * mix) for a, b in zip(ACCENT, WHITE, strict=True))
    return rgb + bytes((round(255 * alpha / n),))


def png(size: int, maskable: bool) -> bytes:
    rows = b"".join(
        b"\0" + b"".join(pixel(px, py, size, maskable) for px in range(size)) for py in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main(folder: Path) -> None:
    for name, size, maskable in (*ICONS, MASKABLE):
        (folder / name).write_bytes(png(size, maskable))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "static")
