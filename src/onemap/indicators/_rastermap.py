"""Maps of layers too large to draw polygon by polygon (report figures).

Matplotlib draws one path per polygon; at 10⁵–10⁶ DLTB patches that takes
minutes. Here such layers are rasterised instead: the pixel centres of the
map are tested against the polygons with one STRtree query (``within``), which
takes seconds, and the image is shown under the few vector layers (county
outlines, control lines) with the legend, scale bar and north arrow of the
report maps, Chinese text in the CJK font.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import shapely

__all__ = ["extent_of", "raster_map", "rasterize"]


def rasterize(geoms: np.ndarray, colours: np.ndarray, extent: tuple[float, float, float, float],
              shape: tuple[int, int], alpha: float = 1.0) -> np.ndarray:
    """RGBA image (first row north) of polygons filled with one colour each.

    Parameters
    ----------
    geoms : numpy.ndarray of shapely polygons
        Lon/lat polygons.
    colours : numpy.ndarray of str
        Fill colour per polygon.
    extent : tuple
        (minx, miny, maxx, maxy) of the image.
    shape : tuple
        (rows, columns).
    alpha : float
        Opacity of the fills.

    Returns
    -------
    numpy.ndarray, shape (rows, columns, 4)
        Transparent where no polygon covers the pixel centre.
    """
    from matplotlib.colors import to_rgba_array

    minx, miny, maxx, maxy = extent
    h, w = shape
    xs = minx + (np.arange(w) + 0.5) * (maxx - minx) / w
    ys = maxy - (np.arange(h) + 0.5) * (maxy - miny) / h
    gx, gy = np.meshgrid(xs, ys)
    pts = shapely.points(gx.ravel(), gy.ravel())
    img = np.zeros((h * w, 4))
    idx = np.flatnonzero(~shapely.is_missing(geoms))
    if len(idx):
        tree = shapely.STRtree(geoms[idx])
        pi, gi = tree.query(pts, predicate="within")
        rgba = to_rgba_array(list(colours[idx]))
        rgba[:, 3] = alpha
        img[pi] = rgba[gi]
    return img.reshape(h, w, 4)


def _mpl_path(geom: Any):
    from matplotlib.path import Path as MplPath

    verts, codes = [], []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3 or poly.is_empty:
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            if len(xy) < 4:
                continue
            verts.append(xy)
            codes.append(np.r_[MplPath.MOVETO, np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes).astype(np.uint8))


def _nice(x: float) -> float:
    exp = 10 ** np.floor(np.log10(x))
    for m in (5, 2, 1):
        if m * exp <= x:
            return float(m * exp)
    return float(exp)


def extent_of(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """Bounds of all geometries, padded by 5 %."""
    geoms = np.concatenate([np.asarray(a, dtype=object) for a in arrays if len(a)])
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    pad = max(maxx - minx, maxy - miny) * 0.05 or 0.001
    return (minx - pad, miny - pad, maxx + pad, maxy + pad)


def raster_map(rasters: list[tuple[np.ndarray, np.ndarray, float]], vectors: list, *,
               extent: tuple[float, float, float, float], title: str,
               labels: list[tuple[float, float, str]], legend: list[tuple[str, str]], note: str,
               dpi: int, size_inches: tuple[float, float] = (6.3, 5.6), synthetic: bool = False,
               map_approval: str = "") -> bytes:
    """Draw raster fills under vector layers and return the PNG.

    Parameters
    ----------
    rasters : list of (geoms, colours, alpha)
        Layers rasterised in order (later ones on top).
    vectors : list of onemap.reports.maps.MapLayer
        Few-feature layers drawn as paths on top.
    extent : tuple
        (minx, miny, maxx, maxy).
    title : str
        Map title.
    labels : list of (lon, lat, text)
        Place labels.
    legend : list of (text, colour)
        Legend entries of the raster layers.
    synthetic : bool
        Mark the map 模拟数据 (:func:`onemap.reports.maps.synthetic_mark`).
    map_approval : str
        审图号; the map is marked 示意图 without one.
    note : str
        Small text under the map.
    dpi : int
        Resolution.
    size_inches : tuple
        Figure size.

    Returns
    -------
    bytes
        PNG.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Patch

    from onemap.reports.fonts import cjk_rc
    from onemap.reports.maps import draw_inner_band, map_note, synthetic_mark

    minx, miny, maxx, maxy = extent
    coslat = max(float(np.cos(np.radians((miny + maxy) / 2))), 0.01)
    w = max(1, int(size_inches[0] * dpi * 0.72))
    h = max(1, int(w * (maxy - miny) / ((maxx - minx) * coslat)))
    img = np.ones((h, w, 4))
    img[..., 3] = 0.0
    for geoms, colours, alpha in rasters:
        layer = rasterize(np.asarray(geoms, dtype=object), np.asarray(colours, dtype=object), extent,
                          (h, w), alpha)
        a = layer[..., 3:4]
        img[..., :3] = layer[..., :3] * a + img[..., :3] * (1 - a)
        img[..., 3:4] = np.maximum(img[..., 3:4], a)
    with cjk_rc():
        fig, ax = plt.subplots(figsize=size_inches, dpi=dpi)
        try:
            ax.imshow(img, extent=(minx, maxx, miny, maxy), origin="upper", interpolation="nearest")
            handles = [Patch(facecolor=c, edgecolor="#666666", label=t) for t, c in legend]
            for layer in vectors:
                paths = [p for p in (_mpl_path(g) for g in layer.geoms) if p is not None]
                if not paths:
                    continue
                face = layer.facecolor or "none"
                banded = layer.inner_band > 0 and layer.hatch
                ax.add_collection(PathCollection(
                    paths, facecolors=face, edgecolors=layer.edgecolor, linewidths=layer.linewidth,
                    linestyles=layer.linestyle, hatch=None if banded else layer.hatch,
                    alpha=layer.alpha if face != "none" else None))
                if banded:
                    draw_inner_band(ax, layer)
                if layer.label:
                    legend_face = (face if face == "none"
                                   else matplotlib.colors.to_rgba(face, layer.alpha))
                    handles.append(Patch(facecolor=legend_face, edgecolor=layer.edgecolor,
                                         linestyle=layer.linestyle, hatch=layer.hatch, label=layer.label))
            for x, y, text in labels:
                ax.text(x, y, text, ha="center", va="center", fontsize=8, color="#B00000",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7})
            ax.set_xlim(minx, maxx)
            ax.set_ylim(miny, maxy)
            ax.set_aspect(1.0 / coslat)
            ax.tick_params(labelsize=6)
            ax.ticklabel_format(useOffset=False, style="plain")
            ax.set_xlabel("经度（°E）", fontsize=7)
            ax.set_ylabel("纬度（°N）", fontsize=7)
            km_per_deg = 111.32 * coslat
            bar = _nice((maxx - minx) * km_per_deg / 5)
            x0, y0 = minx + (maxx - minx) * 0.05, miny + (maxy - miny) * 0.05
            ax.plot([x0, x0 + bar / km_per_deg], [y0, y0], color="black", linewidth=3)
            ax.text(x0 + bar / km_per_deg / 2, y0 + (maxy - miny) * 0.015,
                    f"{bar:g} 千米" if bar >= 1 else f"{bar * 1000:g} 米", ha="center", fontsize=7)
            xa = maxx - (maxx - minx) * 0.05
            ax.annotate("北", xy=(xa, maxy - (maxy - miny) * 0.04), xytext=(xa, maxy - (maxy - miny) * 0.14),
                        ha="center", va="top", fontsize=8, arrowprops={"arrowstyle": "->", "lw": 1.2})
            ax.set_title(title, fontsize=11)
            if handles:
                ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7,
                          frameon=False, borderaxespad=0.0)
            mark = f"审图号：{map_approval}" if map_approval else "示意图"
            map_note(ax, "；".join(x for x in (mark, note) if x))
            if synthetic:
                synthetic_mark(fig, ax)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)
        finally:
            plt.close(fig)
    return buf.getvalue()
