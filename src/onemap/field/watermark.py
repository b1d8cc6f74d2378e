"""The visible watermark of a field photo: capture facts burned into a copy (Pillow).

The original bytes are never changed (their SHA-256 is the evidence); the copy carries, in a dark
band along the bottom, the time, position, accuracy, heading, officer and task, in Chinese.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont, ImageOps

from onemap.errors import InputError, Problem
from onemap.reports.fonts import find_cjk_font


def watermark_lines(*, taken_at: str, lon: float, lat: float, accuracy_m: float,
                    heading: float | None, officer: str, task: str) -> list[str]:
    """The lines written on the photo."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    direction = f"{heading:.0f}°" if heading is not None else "未知"
    return [
        f"时间：{taken_at}",
        f"位置：{abs(lon):.6f}°{ew}，{abs(lat):.6f}°{ns}（精度 {accuracy_m:g} 米）",
        f"方向：{direction}　核查人：{officer}",
        f"任务：{task}",
    ]


def burn(data: bytes, lines: list[str], name: str) -> bytes:
    """A JPEG copy of the image ``data`` with ``lines`` written in a band along its bottom.

    Raises
    ------
    onemap.errors.InputError
        The bytes are not an image Pillow can read (the message names the photo).
    """
    try:
        with Image.open(io.BytesIO(data)) as src:
            img = ImageOps.exif_transpose(src).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(f"照片 {name} 不是可读取的图像（{exc}）",
                         [Problem("photo_image", "无法读取图像", file=name)]) from exc
    w, h = img.size
    size = max(12, min(w, h) // 28)
    font = ImageFont.truetype(str(find_cjk_font().path), size)
    pad = size // 2
    band = len(lines) * (size + pad // 2) + pad * 2
    overlay = Image.new("RGBA", (w, band), (0, 0, 0, 150))
    img.paste(overlay, (0, max(0, h - band)), overlay)
    draw = ImageDraw.Draw(img)
    y = max(0, h - band) + pad
    for line in lines:
        draw.text((pad, y), line, font=font, fill=(255, 255, 255))
        y += size + pad // 2
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()
