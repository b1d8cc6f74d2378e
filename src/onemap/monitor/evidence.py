"""Evidence photos of field checks (外业核查举证): file hash, GPS position, time.

The position and time come from the photo's EXIF tags when present (read with
Pillow), else from values given explicitly; a photo with neither is refused.
The file's SHA-256 is kept so a swapped file is noticed, and it goes into the
audit log with the case transition.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from onemap.errors import InputError, Problem

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306


@dataclass
class Photo:
    """One evidence photo.

    Attributes
    ----------
    path : str
        Absolute file path.
    sha256 : str
        Hash of the file content.
    lon, lat : float
        Where it was taken (WGS 84 / CGCS2000 degrees; the difference is far
        below GPS accuracy).
    taken_at : str
        When it was taken, ISO 8601 (local time as recorded by the camera).
    position_source : str
        ``"exif"`` or ``"given"``.
    note : str
        Free text.
    """

    path: str
    sha256: str
    lon: float
    lat: float
    taken_at: str
    position_source: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _ratio(x: Any) -> float:
    try:
        return float(x)
    except TypeError:
        num, den = x
        return float(num) / float(den)


def _dms(values: Any, ref: Any) -> float:
    d, m, s = (_ratio(v) for v in values)
    deg = d + m / 60.0 + s / 3600.0
    ref = ref.decode() if isinstance(ref, bytes) else str(ref or "")
    return -deg if ref.strip().upper() in ("S", "W") else deg


def read_exif(path: str | Path) -> dict[str, Any]:
    """GPS position and capture time from a photo's EXIF tags.

    Returns
    -------
    dict
        ``lon``, ``lat`` (degrees) and ``taken_at`` (ISO), each only when present.
        Empty when Pillow is missing or the file has no EXIF.
    """
    try:
        from PIL import Image
    except ImportError:
        return {}
    out: dict[str, Any] = {}
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            gps = exif.get_ifd(_GPS_IFD)
            if gps and 2 in gps and 4 in gps:
                out["lat"] = _dms(gps[2], gps.get(1, "N"))
                out["lon"] = _dms(gps[4], gps.get(3, "E"))
            stamp = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
            if stamp:
                text = str(stamp).strip()
                date_part, _, time_part = text.partition(" ")
                out["taken_at"] = date_part.replace(":", "-") + ("T" + time_part
                                                                 if time_part else "")
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return out
    return out


def read_photo(
    path: str | Path,
    *,
    lon: float | None = None,
    lat: float | None = None,
    taken_at: str | None = None,
    note: str = "",
) -> Photo:
    """Describe one evidence photo.

    Parameters
    ----------
    path : str or Path
        The image file.
    lon, lat, taken_at : optional
        Used when the photo carries no EXIF GPS position / time.
    note : str
        Free text kept with the photo.

    Raises
    ------
    onemap.errors.InputError
        The file is missing, or position or time is known neither from EXIF
        nor from the arguments, or the position is out of range.
    """
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise InputError(f"举证照片不存在：{p}", [Problem("photo_missing", "文件不存在",
                                                         file=str(p))])
    exif = read_exif(p)
    source = "exif" if "lon" in exif and "lat" in exif else "given"
    x = exif.get("lon", lon)
    y = exif.get("lat", lat)
    when = exif.get("taken_at") or taken_at
    problems = []
    if x is None or y is None:
        problems.append(Problem("photo_position", "照片无 GPS 位置，请给出 lon/lat", file=str(p)))
    if not when:
        problems.append(Problem("photo_time", "照片无拍摄时间，请给出 time", file=str(p)))
    if problems:
        raise InputError(f"举证照片 {p.name} 缺少位置或时间", problems)
    x, y = float(x), float(y)
    if not (-180 <= x <= 180 and -90 <= y <= 90) or math.isnan(x) or math.isnan(y):
        raise InputError(f"举证照片 {p.name} 的位置无效：{x}, {y}")
    return Photo(path=str(p), sha256=file_sha256(p), lon=round(x, 7), lat=round(y, 7),
                 taken_at=str(when), position_source=source, note=note)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))
