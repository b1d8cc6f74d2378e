"""Evidence rules of field photos (外业举证): which photos are weak evidence, and why.

Pure functions over the facts a phone records at capture (position, accuracy, time, heading) and
the task (its geometry and period). The thresholds are data (``field_tasks.yaml`` → ``rules``):

- 位置不符: the photo is farther than ``max_distance_m`` from the task geometry. The distance is
  the geodesic on the CGCS2000 ellipsoid (``pyproj.Geod``, GRS80 = CGCS2000 to 0.1 mm) from the
  photo to the nearest point of the geometry (0 inside a polygon). The nearest point is found in an
  azimuthal equidistant projection centred on the photo (distances from the centre are exact there).
- 时间不符: taken before the task period starts, after it ends, or after the server received it
  (each with ``clock_slack_minutes``).
- 精度不足: the reported accuracy is worse than ``max_accuracy_m``.
- 举证不足: fewer photos for the task (earlier ones included) than the task kind requires.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.ops import nearest_points

from onemap.field.config import EvidenceRules

_GEOD = Geod(ellps="GRS80")

LOCATION = "位置不符"
TIME = "时间不符"
ACCURACY = "精度不足"
COUNT = "举证不足"


@dataclass(frozen=True)
class PhotoFacts:
    """What the phone recorded at capture.

    Attributes
    ----------
    name : str
        The photo's file name (how flags name it).
    lon, lat : float
        Position in degrees (CGCS2000; WGS 84 differs far below GPS accuracy).
    accuracy_m : float
        Horizontal accuracy the device reported, metres.
    taken_at : datetime
        Capture time, timezone-aware.
    heading : float or None
        View direction in degrees clockwise from north, when the device gives it.
    """

    name: str
    lon: float
    lat: float
    accuracy_m: float
    taken_at: datetime
    heading: float | None = None


@dataclass(frozen=True)
class Flag:
    """One weakness of the evidence: the photo (None for the whole task), the rule and why."""

    photo: str | None
    rule: str
    message: str

    def to_dict(self) -> dict[str, str | None]:
        """Return a JSON-ready dict ``{photo, rule, message}``."""
        return asdict(self)


def parse_time(text: str, utc_offset_hours: float = 8.0) -> datetime:
    """A capture time from ISO 8601 text; without an offset it is local time at ``utc_offset_hours``.

    Raises
    ------
    ValueError
        The text is not an ISO 8601 date-time.
    """
    value = str(text).strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone(timedelta(hours=utc_offset_hours)))
    return dt


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance in metres on the CGCS2000 ellipsoid."""
    return float(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


def distance_to_geometry_m(lon: float, lat: float, geometry: shapely.Geometry) -> float:
    """Ellipsoidal distance in metres from a point to the nearest point of ``geometry`` (0 inside).

    Parameters
    ----------
    lon, lat : float
        The point, degrees.
    geometry : shapely.Geometry
        The task geometry in lon/lat degrees (point, line or polygon, single or multi).
    """
    here = shapely.Point(lon, lat)
    if geometry.is_empty:
        raise ValueError("任务图形为空")
    if geometry.geom_type in ("Point", "MultiPoint"):
        pts = shapely.get_coordinates(geometry)
        return min(geodesic_m(lon, lat, float(x), float(y)) for x, y in pts)
    if geometry.covers(here):
        return 0.0
    to_plane = Transformer.from_crs(
        "EPSG:4490", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m +no_defs",
        always_xy=True)
    planar = shapely.transform(geometry, lambda xy: _stack(*to_plane.transform(xy[:, 0], xy[:, 1])))
    _, nearest = nearest_points(shapely.Point(0.0, 0.0), planar)
    nlon, nlat = to_plane.transform(nearest.x, nearest.y, direction="INVERSE")
    return geodesic_m(lon, lat, float(nlon), float(nlat))


def _stack(x, y) -> np.ndarray:
    return np.column_stack([x, y])


def check_photo(photo: PhotoFacts, *, geometry: shapely.Geometry | None, start: datetime | None,
                end: datetime | None, received_at: datetime, rules: EvidenceRules) -> list[Flag]:
    """The flags of one photo against the task (location, time, accuracy).

    Parameters
    ----------
    photo : PhotoFacts
        The photo's capture facts.
    geometry : shapely.Geometry or None
        The task geometry (None: the location rule cannot apply and is not checked).
    start, end : datetime or None
        The task period (None: open on that side).
    received_at : datetime
        When the server received the photo.
    rules : EvidenceRules
        Thresholds.
    """
    flags: list[Flag] = []
    name = photo.name
    if geometry is not None:
        d = distance_to_geometry_m(photo.lon, photo.lat, geometry)
        if d > rules.max_distance_m:
            flags.append(Flag(name, LOCATION, f"照片 {name} 的拍摄位置距任务图形 {d:.1f} 米，"
                                              f"超过 {rules.max_distance_m:g} 米"))
    slack = timedelta(minutes=rules.clock_slack_minutes)
    local = timezone(timedelta(hours=rules.utc_offset_hours))
    shown = photo.taken_at.astimezone(local).strftime("%Y-%m-%d %H:%M")
    if start is not None and photo.taken_at < start - slack:
        flags.append(Flag(name, TIME, f"照片 {name} 拍摄于 {shown}，早于任务开始"
                                      f"（{start.astimezone(local):%Y-%m-%d %H:%M}）"))
    if end is not None and photo.taken_at > end + slack:
        flags.append(Flag(name, TIME, f"照片 {name} 拍摄于 {shown}，晚于任务期限"
                                      f"（{end.astimezone(local):%Y-%m-%d %H:%M}）"))
    if photo.taken_at > received_at + slack:
        flags.append(Flag(name, TIME, f"照片 {name} 的拍摄时间 {shown} 晚于服务器收到的时间"
                                      f"（{received_at.astimezone(local):%Y-%m-%d %H:%M}），手机时钟不可信"))
    if not math.isfinite(photo.accuracy_m) or photo.accuracy_m > rules.max_accuracy_m:
        flags.append(Flag(name, ACCURACY, f"照片 {name} 的定位精度 {photo.accuracy_m:g} 米，"
                                          f"差于 {rules.max_accuracy_m:g} 米"))
    return flags


def check_count(total_photos: int, min_photos: int, kind_title: str) -> list[Flag]:
    """举证不足 when the task has fewer photos (earlier ones included) than its kind requires."""
    if total_photos >= min_photos:
        return []
    return [Flag(None, COUNT, f"「{kind_title}」须至少 {min_photos} 张照片，本任务现有 {total_photos} 张")]


def check_evidence(photos: list[PhotoFacts], *, geometry: shapely.Geometry | None,
                   start: datetime | None, end: datetime | None, received_at: datetime,
                   prior_photos: int, min_photos: int, kind_title: str,
                   rules: EvidenceRules) -> list[Flag]:
    """Every flag of one submission: per photo, then the count over the task.

    ``prior_photos`` is the number of photos accepted earlier for the task.
    """
    received = received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)
    flags = [f for p in photos for f in check_photo(p, geometry=geometry, start=start, end=end,
                                                    received_at=received, rules=rules)]
    return flags + check_count(prior_photos + len(photos), min_photos, kind_title)
