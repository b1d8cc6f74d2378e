"""Finding a CJK font for charts and maps (matplotlib).

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs: labels come
out as empty boxes with only a warning. Every figure OneMap draws therefore
goes through :func:`cjk_rc`, which selects a font that has them, and fails
with a clear message when the machine has none.

Search order: the file named by the environment variable ``ONEMAP_CJK_FONT``;
then the families in :data:`CJK_FAMILIES` known to matplotlib; then any font
``fc-list :lang=zh`` reports. A candidate is accepted only if it really holds
the glyphs of :data:`PROBE_TEXT`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from onemap.errors import OneMapError

__all__ = [
    "CJK_FAMILIES",
    "CjkFont",
    "FontNotFoundError",
    "cjk_font_properties",
    "cjk_rc",
    "find_cjk_font",
]

#: Family names tried in order (Noto first: Debian's fonts-noto-cjk).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
)

#: Text whose glyphs a font must have to be accepted.
PROBE_TEXT = "自然资源一张图地块永久基本农田生态保护红线城镇开发边界耕地公顷亩"

_INSTALL_HINT = (
    "未找到可显示中文的字体，无法绘制地图。请安装中文字体后重试："
    "Debian/Ubuntu 运行 `apt-get install fonts-noto-cjk`（scripts/install.sh 会自动安装），"
    "或设置环境变量 ONEMAP_CJK_FONT 指向一个中文字体文件（.ttf/.otf/.ttc）。"
)


class FontNotFoundError(OneMapError):
    """No font with Chinese glyphs is available to matplotlib."""

    exit_code = 6


@dataclass(frozen=True)
class CjkFont:
    """A CJK font usable by matplotlib.

    Attributes
    ----------
    family : str
        Family name matplotlib knows it by, e.g. ``"Noto Sans CJK SC"``.
    path : pathlib.Path
        Font file.
    """

    family: str
    path: Path


def _has_glyphs(path: str | Path, text: str = PROBE_TEXT) -> bool:
    """Whether the (first face of the) font file maps every character of ``text``."""
    from matplotlib.ft2font import FT2Font

    try:
        font = FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) for ch in text)


def _register(path: Path) -> str:
    """Add a font file to matplotlib's font manager; return its family name."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _fc_list() -> list[Path]:
    """Font files fontconfig says cover Chinese (empty without fc-list)."""
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run(
            [exe, ":lang=zh", "file"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = {line.split(":")[0].strip() for line in out.splitlines() if line.strip()}
    return [Path(f) for f in sorted(files)]


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont:
    """Return a font with Chinese glyphs, registered with matplotlib.

    Returns
    -------
    CjkFont

    Raises
    ------
    FontNotFoundError
        If no such font is installed (message says how to install one).
    """
    from matplotlib import font_manager

    env = os.environ.get("ONEMAP_CJK_FONT")
    if env:
        path = Path(env)
        if not path.is_file() or not _has_glyphs(path):
            raise FontNotFoundError(
                f"环境变量 ONEMAP_CJK_FONT 指向的 {env} 不存在或不含中文字形。" + _INSTALL_HINT
            )
        return CjkFont(_register(path), path)
    regular = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.style == "normal" and entry.weight in (400, "normal", "regular"):
            regular.setdefault(entry.name, entry.fname)
    for family in CJK_FAMILIES:
        fname = regular.get(family)
        if fname and _has_glyphs(fname):
            return CjkFont(family, Path(fname))
    for path in _fc_list():
        if path.suffix.lower() in (".ttf", ".otf", ".ttc") and _has_glyphs(path):
            return CjkFont(_register(path), path)
    raise FontNotFoundError(_INSTALL_HINT)


def cjk_font_properties(size: float | None = None):
    """Return a ``matplotlib.font_manager.FontProperties`` of the CJK font.

    Parameters
    ----------
    size : float, optional
        Font size in points.
    """
    from matplotlib import font_manager

    font = find_cjk_font()
    return font_manager.FontProperties(family=font.family, size=size)


@contextmanager
def cjk_rc(**extra: object) -> Iterator[CjkFont]:
    """Matplotlib settings for Chinese text inside a ``with`` block.

    Sets ``font.family`` to the CJK font (DejaVu Sans after it for Latin
    symbols) and a hyphen minus sign (CJK fonts often lack U+2212).

    Parameters
    ----------
    **extra
        More rcParams, with ``.`` in names written as ``__`` (``axes__titlesize=12``).

    Yields
    ------
    CjkFont
        The font in use.
    """
    import matplotlib

    font = find_cjk_font()
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": [font.family, "DejaVu Sans"],
        "axes.unicode_minus": False,
    }
    rc.update({k.replace("__", "."): v for k, v in extra.items()})
    with matplotlib.rc_context(rc):
        yield font
