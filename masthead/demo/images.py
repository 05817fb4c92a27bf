"""Illustrations for the demo edition, drawn with Pillow so the demo ships no one else's pictures."""

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

SIZE = (1600, 900)
PORTRAIT = (480, 480)

# Background palettes per section: (top colour, bottom colour, ink).
PALETTES = {
    "city": ((46, 74, 110), (164, 190, 214), (250, 244, 230)),
    "politics": ((92, 30, 44), (196, 120, 112), (252, 240, 228)),
    "business": ((24, 70, 64), (128, 184, 160), (245, 248, 236)),
    "science": ((20, 60, 96), (96, 168, 170), (236, 250, 246)),
    "sport": ((30, 92, 48), (150, 200, 110), (250, 250, 236)),
    "culture": ((64, 36, 96), (214, 140, 110), (252, 240, 232)),
}
DEFAULT_PALETTE = ((60, 60, 70), (170, 170, 180), (250, 250, 250))


def _gradient(size, top, bottom) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(height - 1, 1)
        colour = tuple(int(top[i] + (bottom[i] - top[i]) * t) for i in range(3))
        draw.line([(0, y), (width, y)], fill=colour)
    return image


def _motif(draw: ImageDraw.ImageDraw, motif: str, ink, rng: random.Random) -> None:
    w, h = SIZE
    horizon = int(h * 0.68)
    if motif in {"bridge", "river", "boat"}:
        for i in range(6):
            y = horizon + 30 + i * 34
            draw.arc([-200 + i * 40, y - 40, w + 200, y + 40], 0, 180, fill=ink, width=4)
    if motif == "bridge":
        draw.rectangle([0, horizon - 40, w, horizon - 20], fill=ink)
        for x in range(120, w, 340):
            draw.arc([x, horizon - 220, x + 340, horizon + 160], 180, 360, fill=ink, width=18)
    elif motif == "boat":
        draw.polygon(
            [(560, horizon), (1040, horizon), (960, horizon + 70), (640, horizon + 70)], fill=ink
        )
        draw.line([(800, horizon), (800, horizon - 300)], fill=ink, width=10)
        draw.polygon([(810, horizon - 290), (810, horizon - 40), (1010, horizon - 40)], fill=ink)
    elif motif in {"building", "factory", "train", "crowd", "flag", "stage"}:
        draw.rectangle([0, horizon, w, h], fill=tuple(max(c - 60, 0) for c in ink))
    if motif == "building":
        x = 80
        while x < w - 100:
            bw, bh = rng.randint(120, 220), rng.randint(200, 520)
            draw.rectangle([x, horizon - bh, x + bw, horizon], fill=ink)
            x += bw + rng.randint(20, 60)
    elif motif == "factory":
        draw.rectangle([200, horizon - 240, 1400, horizon], fill=ink)
        for x in (320, 560, 800):
            draw.rectangle([x, horizon - 460, x + 70, horizon - 240], fill=ink)
        for i in range(6):
            draw.polygon(
                [
                    (200 + i * 200, horizon - 240),
                    (400 + i * 200, horizon - 240),
                    (400 + i * 200, horizon - 330),
                ],
                fill=ink,
            )
    elif motif == "train":
        draw.rounded_rectangle([180, horizon - 220, 1420, horizon - 30], radius=40, fill=ink)
        for x in range(260, 1400, 160):
            draw.ellipse([x, horizon - 60, x + 70, horizon + 10], fill=ink)
        draw.line([(0, horizon + 14), (w, horizon + 14)], fill=ink, width=8)
    elif motif == "crowd":
        for _ in range(70):
            x, y = rng.randint(0, w), rng.randint(horizon - 120, h)
            r = rng.randint(22, 40)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=ink)
            draw.rounded_rectangle([x - r - 10, y + r, x + r + 10, y + 4 * r], radius=20, fill=ink)
    elif motif == "flag":
        draw.line([(520, horizon), (520, 120)], fill=ink, width=14)
        points = [(528 + x, 140 + 30 * math.sin(x / 90)) for x in range(0, 600, 20)]
        points += [(528 + x, 420 + 30 * math.sin(x / 90)) for x in range(580, -1, -20)]
        draw.polygon(points, fill=ink)
    elif motif == "stage":
        draw.rectangle([0, 0, 260, h], fill=ink)
        draw.rectangle([w - 260, 0, w, h], fill=ink)
        draw.polygon([(500, 80), (1100, 80), (1300, horizon), (300, horizon)], outline=ink, width=8)
    elif motif in {"ball"}:
        draw.rectangle([0, horizon, w, h], fill=tuple(max(c - 40, 0) for c in ink))
        draw.ellipse([640, horizon - 340, 960, horizon - 20], outline=ink, width=14)
        for angle in range(0, 360, 72):
            x = 800 + 90 * math.cos(math.radians(angle))
            y = horizon - 180 + 90 * math.sin(math.radians(angle))
            draw.regular_polygon((x, y, 40), 5, fill=ink)
    elif motif in {"book", "books"}:
        x = 260
        for _ in range(9 if motif == "books" else 3):
            bw = rng.randint(70, 130)
            bh = rng.randint(340, 480)
            draw.rectangle(
                [x, horizon - bh, x + bw, horizon],
                fill=ink,
                outline=tuple(c // 2 for c in ink),
                width=4,
            )
            x += bw + 14
        draw.rectangle([180, horizon, w - 180, horizon + 30], fill=ink)
    elif motif == "leaf":
        for _ in range(14):
            x, y = rng.randint(100, w - 100), rng.randint(80, h - 80)
            r = rng.randint(50, 110)
            draw.ellipse([x - r, y - r // 2, x + r, y + r // 2], fill=ink)
            draw.line([(x - r, y), (x + r, y)], fill=tuple(c // 2 for c in ink), width=4)
    elif motif == "sun":
        draw.ellipse([620, 180, 980, 540], fill=ink)
        for angle in range(0, 360, 20):
            x1 = 800 + 230 * math.cos(math.radians(angle))
            y1 = 360 + 230 * math.sin(math.radians(angle))
            x2 = 800 + 320 * math.cos(math.radians(angle))
            y2 = 360 + 320 * math.sin(math.radians(angle))
            draw.line([(x1, y1), (x2, y2)], fill=ink, width=10)
    elif motif == "rain":
        for _ in range(220):
            x, y = rng.randint(0, w), rng.randint(0, h)
            draw.line([(x, y), (x - 16, y + 60)], fill=ink, width=4)
    elif motif == "chart":
        for i, x in enumerate(range(260, 1360, 150)):
            bh = 80 + int(380 * (0.5 + 0.5 * math.sin(i * 0.9 + rng.random())))
            draw.rectangle([x, horizon - bh, x + 100, horizon], fill=ink)
        draw.line([(220, horizon), (1400, horizon)], fill=ink, width=8)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    return buffer.getvalue()


def illustration(*, motif: str, section: str, seed: str) -> bytes:
    """Return a 1600×900 JPEG illustration for an article (deterministic for the same seed)."""
    rng = random.Random(hashlib.sha1(seed.encode()).hexdigest())
    top, bottom, ink = PALETTES.get(section, DEFAULT_PALETTE)
    image = _gradient(SIZE, top, bottom)
    _motif(ImageDraw.Draw(image), motif, ink, rng)
    return _jpeg(image.filter(ImageFilter.SMOOTH))


def portrait(*, name: str) -> bytes:
    """Return a 480×480 JPEG head-and-shoulders drawing for an author."""
    rng = random.Random(name)
    hue = rng.choice(list(PALETTES.values()))
    image = _gradient(PORTRAIT, hue[0], hue[1])
    draw = ImageDraw.Draw(image)
    skin = rng.choice(
        [(241, 206, 178), (198, 150, 110), (141, 98, 66), (224, 180, 140), (96, 64, 44)]
    )
    hair = rng.choice([(40, 30, 24), (90, 60, 30), (20, 20, 20), (150, 110, 60), (200, 200, 200)])
    coat = rng.choice([(30, 40, 60), (80, 30, 40), (40, 70, 60), (60, 60, 60), (120, 90, 50)])
    draw.ellipse([90, 330, 390, 640], fill=coat)
    draw.rectangle([205, 280, 275, 350], fill=skin)
    draw.ellipse([150, 110, 330, 320], fill=skin)
    draw.chord([140, 90, 340, 260], 180, 360, fill=hair)
    return _jpeg(image.filter(ImageFilter.SMOOTH_MORE))
