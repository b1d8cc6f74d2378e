"""Local metric frame, smooth random fields and rasterised location features.

Everything here is deterministic given its generator: the sample's spatial
structure (where farmland, towns, sand … are) comes from these smooth fields,
never from independent per-patch noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

Array = NDArray[np.float64]


def child_rng(seed: int, *keys: int | str) -> np.random.Generator:
    """Independent, reproducible generator for one named stream.

    Parameters
    ----------
    seed : int
        Sample seed.
    *keys : int or str
        Stream name parts; strings are hashed with SHA-256 (stable across runs,
        unlike ``hash``).

    Returns
    -------
    numpy.random.Generator
    """
    words: list[int] = [int(seed) & 0xFFFFFFFF]
    for key in keys:
        if isinstance(key, str):
            words.append(int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little"))
        else:
            words.append(int(key) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


@dataclass(frozen=True)
class LocalFrame:
    """Equirectangular km frame around a reference point.

    ``x = (lon − lon0)·kx``, ``y = (lat − lat0)·ky`` with the km-per-degree
    factors of the ellipsoid at ``lat0``. It is affine, so shared vertices stay
    shared through a round trip; it is only used to shape the synthetic
    geometry (official areas are ellipsoidal).
    """

    lon0: float
    lat0: float
    kx: float
    ky: float

    @classmethod
    def around(cls, bounds: Sequence[float]) -> LocalFrame:
        """Frame centred on ``bounds`` = (minx, miny, maxx, maxy) in degrees."""
        lon0 = 0.5 * (bounds[0] + bounds[2])
        lat0 = 0.5 * (bounds[1] + bounds[3])
        p = np.radians(lat0)
        ky = 111.132954 - 0.559822 * np.cos(2 * p) + 0.001175 * np.cos(4 * p)
        kx = 111.412840 * np.cos(p) - 0.09350 * np.cos(3 * p) + 0.00012 * np.cos(5 * p)
        return cls(float(lon0), float(lat0), float(kx), float(ky))

    def to_km(self, lon, lat) -> tuple[Array, Array]:
        """Degrees → km."""
        return (np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky

    def to_deg(self, x, y) -> tuple[Array, Array]:
        """Km → degrees."""
        return np.asarray(x) / self.kx + self.lon0, np.asarray(y) / self.ky + self.lat0

    def xy_to_km(self, xy: Array) -> Array:
        """(n, 2) degrees → (n, 2) km."""
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = (xy[:, 0] - self.lon0) * self.kx
        out[:, 1] = (xy[:, 1] - self.lat0) * self.ky
        return out

    def xy_to_deg(self, xy: Array) -> Array:
        """(n, 2) km → (n, 2) degrees."""
        out = np.empty_like(xy, dtype=np.float64)
        out[:, 0] = xy[:, 0] / self.kx + self.lon0
        out[:, 1] = xy[:, 1] / self.ky + self.lat0
        return out

    def geom_to_km(self, geom):
        """Transform shapely geometries from degrees to km."""
        return shapely.transform(geom, self.xy_to_km)

    def geom_to_deg(self, geom):
        """Transform shapely geometries from km to degrees."""
        return shapely.transform(geom, self.xy_to_deg)

    def km2_per_deg2(self) -> float:
        """Approximate km² per square degree (for planar area estimates)."""
        return self.kx * self.ky


class _Lattice:
    """Cell indices and smoothstep weights of points on a regular lattice."""

    __slots__ = ("k", "tx", "ty", "nx")

    def __init__(self, x0: float, y0: float, scale: float, shape: tuple[int, int], x, y):
        ny, nx = shape
        fx = np.asarray(x, dtype=np.float64) - x0
        fx *= 1.0 / scale
        np.clip(fx, 0.0, nx - 1.000001, out=fx)
        fy = np.asarray(y, dtype=np.float64) - y0
        fy *= 1.0 / scale
        np.clip(fy, 0.0, ny - 1.000001, out=fy)
        ix = fx.astype(np.int64)
        iy = fy.astype(np.int64)
        tx = (fx - ix).astype(np.float32)
        ty = (fy - iy).astype(np.float32)
        del fx, fy
        tx = tx * tx * (np.float32(3.0) - np.float32(2.0) * tx)
        ty = ty * ty * (np.float32(3.0) - np.float32(2.0) * ty)
        iy *= nx
        iy += ix
        self.k = iy
        self.tx = tx
        self.ty = ty
        self.nx = nx

    def blend(self, flat: NDArray[np.float32]) -> NDArray[np.float32]:
        """Smoothstep-bilinear blend of lattice values ``flat`` (raveled grid)."""
        k, nx = self.k, self.nx
        v00 = flat.take(k)
        v01 = flat.take(k + 1)
        top = v00 + (v01 - v00) * self.tx
        v10 = flat.take(k + nx)
        v11 = flat.take(k + nx + 1)
        bot = v10 + (v11 - v10) * self.tx
        top += (bot - top) * self.ty
        return top


class ValueNoise:
    """Value noise: random lattice values blended with smoothstep weights.

    Parameters
    ----------
    rng : numpy.random.Generator
    bounds_km : sequence of float
        (x0, y0, x1, y1) the field must cover, km.
    scale_km : float
        Lattice spacing (≈ correlation length).
    uniform : bool
        Lattice values uniform in [−1, 1] (bounded gradient, used for warps)
        instead of standard normal.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        bounds_km: Sequence[float],
        scale_km: float,
        uniform: bool = False,
    ):
        self.x0 = float(bounds_km[0]) - scale_km
        self.y0 = float(bounds_km[1]) - scale_km
        self.scale = float(scale_km)
        nx = int(np.ceil((bounds_km[2] - self.x0) / scale_km)) + 3
        ny = int(np.ceil((bounds_km[3] - self.y0) / scale_km)) + 3
        self.shape = (ny, nx)
        grid = rng.uniform(-1.0, 1.0, self.shape) if uniform else rng.standard_normal(self.shape)
        self.flat = grid.astype(np.float32).ravel()

    def lattice(self, x: Array, y: Array) -> _Lattice:
        """Lattice positions of points (reusable by fields on the same lattice)."""
        return _Lattice(self.x0, self.y0, self.scale, self.shape, x, y)

    def __call__(self, x: Array, y: Array) -> Array:
        """Field values at km coordinates ``x``, ``y``."""
        return self.lattice(x, y).blend(self.flat).astype(np.float64)


class FractalNoise:
    """Sum of value-noise octaves (standard-normal lattices), unit-ish variance."""

    def __init__(
        self,
        rng: np.random.Generator,
        bounds_km: Sequence[float],
        scale_km: float,
        octaves: int = 2,
        gain: float = 0.45,
        lacunarity: float = 2.3,
    ):
        self.layers = []
        amp, scale, norm = 1.0, scale_km, 0.0
        for _ in range(octaves):
            self.layers.append((amp, ValueNoise(rng, bounds_km, scale)))
            norm += amp * amp
            amp *= gain
            scale /= lacunarity
        # a smoothstep-blended N(0,1) lattice has std ≈ 0.7 on average
        self.norm = 1.0 / (0.7 * np.sqrt(norm))

    def __call__(self, x: Array, y: Array) -> Array:
        """Field values at km coordinates."""
        out = np.zeros(np.shape(x))
        for amp, layer in self.layers:
            out += amp * layer(x, y)
        return out * self.norm


class Warp:
    """Smooth displacement field ``p → p + D(p)`` in km.

    Each octave has lattice spacing ``h`` and amplitude ``amplitude·h`` with
    lattice values in [−1, 1]; for ``amplitude ≤ 0.15`` the gradient of the
    displacement stays below one, so the map is a homeomorphism: a coverage
    stays a coverage and valid polygons stay valid.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        bounds_km: Sequence[float],
        wavelengths_km: Iterable[float],
        amplitude: float,
    ):
        self.octaves = []
        for h in wavelengths_km:
            fx = ValueNoise(rng, bounds_km, h, uniform=True)
            fy = ValueNoise(rng, bounds_km, h, uniform=True)
            self.octaves.append((np.float32(amplitude * h), fx, fy))

    def displacement(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Displacement vectors (float32) at km points."""
        dx = np.zeros(np.shape(x), dtype=np.float32)
        dy = np.zeros(np.shape(x), dtype=np.float32)
        for amp, fx, fy in self.octaves:
            lat = fx.lattice(x, y)
            dx += amp * lat.blend(fx.flat)
            dy += amp * lat.blend(fy.flat)
        return dx, dy

    def __call__(self, x: Array, y: Array) -> tuple[Array, Array]:
        """Displaced coordinates."""
        dx, dy = self.displacement(x, y)
        return np.asarray(x, dtype=np.float64) + dx, np.asarray(y, dtype=np.float64) + dy


def distance_to_polyline(x: Array, y: Array, line: Array) -> Array:
    """Euclidean distance from points to a polyline (km arrays).

    Parameters
    ----------
    x, y : numpy.ndarray
        Point coordinates.
    line : numpy.ndarray, shape (m, 2)
        Vertices; consecutive pairs are segments.
    """
    best = np.full(np.shape(x), np.inf)
    for (ax, ay), (bx, by) in zip(line[:-1], line[1:], strict=True):
        dx, dy = bx - ax, by - ay
        ll = dx * dx + dy * dy
        if ll == 0.0:
            t = np.zeros_like(best)
        else:
            t = np.clip(((x - ax) * dx + (y - ay) * dy) / ll, 0.0, 1.0)
        px = ax + t * dx - x
        py = ay + t * dy - y
        np.minimum(best, np.hypot(px, py), out=best)
    return best


@dataclass
class Kernel:
    """One item of a location feature, in km: point, polyline or polygon."""

    kind: str
    coords: Array
    scale_km: float
    weight: float = 1.0

    def distance(self, x: Array, y: Array) -> Array:
        """Distance from points to the item (0 inside a polygon)."""
        if self.kind == "point":
            return np.hypot(x - self.coords[0, 0], y - self.coords[0, 1])
        if self.kind == "line":
            return distance_to_polyline(x, y, self.coords)
        ring = np.vstack([self.coords, self.coords[:1]])
        d = distance_to_polyline(x, y, ring)
        inside = shapely.contains_xy(shapely.Polygon(ring), x, y)
        d[inside] = 0.0
        return d

    def value(self, x: Array, y: Array) -> Array:
        """``weight · exp(−(d/scale)²)``."""
        d = self.distance(x, y) / self.scale_km
        return self.weight * np.exp(-(d * d))


class FeatureRaster:
    """Location features rasterised on a regular km grid, sampled bilinearly.

    Parameters
    ----------
    bounds_km : sequence of float
        (x0, y0, x1, y1) to cover.
    res_km : float
        Cell size.
    """

    def __init__(self, bounds_km: Sequence[float], res_km: float):
        self.x0 = float(bounds_km[0])
        self.y0 = float(bounds_km[1])
        self.res = float(res_km)
        self.nx = int(np.ceil((bounds_km[2] - self.x0) / res_km)) + 2
        self.ny = int(np.ceil((bounds_km[3] - self.y0) / res_km)) + 2
        xs = self.x0 + np.arange(self.nx) * res_km
        ys = self.y0 + np.arange(self.ny) * res_km
        self.gx, self.gy = np.meshgrid(xs, ys)
        self.layers: dict[str, NDArray[np.float32]] = {}

    def add(self, name: str, kernels: Sequence[Kernel]) -> None:
        """Rasterise ``max(kernel values)`` as layer ``name``."""
        x = self.gx.ravel()
        y = self.gy.ravel()
        out = np.zeros(x.shape)
        for k in kernels:
            # only evaluate where the kernel can matter (within 3.5 scales of its bbox)
            lo = k.coords.min(axis=0) - 3.5 * k.scale_km
            hi = k.coords.max(axis=0) + 3.5 * k.scale_km
            sel = np.flatnonzero((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]))
            if len(sel):
                out[sel] = np.maximum(out[sel], k.value(x[sel], y[sel]))
        self.layers[name] = out.reshape(self.gx.shape).astype(np.float32)

    def set(self, name: str, values: Array) -> None:
        """Store a precomputed layer (shape of the grid)."""
        self.layers[name] = np.asarray(values, dtype=np.float32).reshape(self.gx.shape)

    def sample(self, name: str, x: Array, y: Array) -> Array:
        """Bilinear value of layer ``name`` at km points."""
        g = self.layers[name]
        fx = np.clip((np.asarray(x) - self.x0) / self.res, 0.0, self.nx - 1.000001)
        fy = np.clip((np.asarray(y) - self.y0) / self.res, 0.0, self.ny - 1.000001)
        ix = fx.astype(np.int64)
        iy = fy.astype(np.int64)
        tx = fx - ix
        ty = fy - iy
        top = g[iy, ix] * (1.0 - tx) + g[iy, ix + 1] * tx
        bot = g[iy + 1, ix] * (1.0 - tx) + g[iy + 1, ix + 1] * tx
        return (top * (1.0 - ty) + bot * ty).astype(np.float64)
