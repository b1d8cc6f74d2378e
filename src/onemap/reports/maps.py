"""Static maps (PNG) for reports: polygons in CGCS2000 lon/lat, Chinese labels.

No basemap tiles and no network: a map is the layers it is given, drawn with
matplotlib's Agg backend, plus a legend, a scale bar and a north arrow. Axes
keep true proportions at the map's latitude (1° of longitude is drawn
cos(φ) times as long as 1° of latitude).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from onemap.reports.fonts import cjk_rc

__all__ = ["GROUP_COLOURS", "MapLayer", "draw_inner_band", "map_note", "render_map",
           "synthetic_mark"]

#: Fill colours of the 三调 bulletin groups (approximations of the 三调 mapping palette,
#: to confirm against the official 制图 specification).
GROUP_COLOURS: dict[str, str] = {
    "耕地": "#F6E98B",
    "种植园用地": "#E9B96E",
    "林地": "#6DB56D",
    "草地": "#B8D98B",
    "湿地": "#7CC6C2",
    "城镇村及工矿用地": "#E58A7D",
    "交通运输用地": "#B7B7B7",
    "水域及水利设施用地": "#8EC5EE",
    "其他土地": "#D8CBB0",
}


@dataclass
class MapLayer:
    """One layer of a map.

    Attributes
    ----------
    geoms : sequence of shapely geometries
        Polygons (lon/lat); other types are ignored.
    label : str
        Legend text ("" keeps it out of the legend).
    facecolor : str or None
        Fill colour, None for outline only.
    facecolors : sequence of str, optional
        One fill colour per geometry (overrides ``facecolor``).
    edgecolor : str
        Outline colour.
    linewidth : float
        Outline width in points.
    linestyle : str
        Matplotlib line style (``"-"``, ``"--"``, ``"-."``, ``":"``).
    hatch : str, optional
        Hatch pattern, e.g. ``"///"``.
    alpha : float
        Opacity of the fill.
    legend : list of (str, str)
        Extra legend entries ``(label, fill colour)`` (e.g. one per land-class group).
    inner_band : float
        Width (map units) of a hatched band drawn along the inside of each
        polygon's edge, so the inside of a zone reads at a glance (0: none;
        the hatch then fills the whole polygon).
    """

    geoms: Sequence[shapely.Geometry]
    label: str = ""
    facecolor: str | None = None
    facecolors: Sequence[str] | None = None
    edgecolor: str = "#333333"
    linewidth: float = 0.6
    linestyle: str = "-"
    hatch: str | None = None
    alpha: float = 1.0
    legend: list[tuple[str, str]] = field(default_factory=list)
    inner_band: float = 0.0


def _path(geom: shapely.Geometry):
    """A matplotlib Path of a (multi)polygon; holes wound against the shell."""
    from matplotlib.path import Path as MplPath

    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for poly in shapely.get_parts(geom):
        if shapely.get_type_id(poly) != 3 or poly.is_empty:
            continue
        poly = shapely.geometry.polygon.orient(poly, 1.0)
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            c = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            c[0] = MplPath.MOVETO
            c[-1] = MplPath.CLOSEPOLY
            verts.append(xy)
            codes.append(c)
    if not verts:
        return None
    return MplPath(np.concatenate(verts), np.concatenate(codes))


def _nice_length(max_m: float) -> float:
    """A round length (1, 2 or 5 × 10^k m) not above ``max_m``."""
    if max_m <= 0:
        return 0.0
    k = 10 ** math.floor(math.log10(max_m))
    for m in (5, 2, 1):
        if m * k <= max_m:
            return m * k
    return k


def _scalebar(ax, extent: tuple[float, float, float, float], fontsize: float) -> None:
    minx, miny, maxx, maxy = extent
    lat = (miny + maxy) / 2
    m_per_deg = 111_320.0 * math.cos(math.radians(lat))
    width_m = (maxx - minx) * m_per_deg
    length = _nice_length(width_m / 4)
    if length <= 0:
        return
    x0 = minx + (maxx - minx) * 0.05
    y0 = miny + (maxy - miny) * 0.05
    dx = length / m_per_deg
    ax.plot([x0, x0 + dx], [y0, y0], color="black", linewidth=2.5, solid_capstyle="butt")
    text = f"{length / 1000:g} 千米" if length >= 1000 else f"{length:g} 米"
    ax.text(x0 + dx / 2, y0 + (maxy - miny) * 0.015, text, ha="center", va="bottom",
            fontsize=fontsize)


def _north_arrow(ax, extent: tuple[float, float, float, float], fontsize: float) -> None:
    minx, miny, maxx, maxy = extent
    x = maxx - (maxx - minx) * 0.06
    y1 = maxy - (maxy - miny) * 0.05
    y0 = maxy - (maxy - miny) * 0.15
    ax.annotate("", xy=(x, y1), xytext=(x, y0),
                arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.2})
    ax.text(x, y1, "北", ha="center", va="bottom", fontsize=fontsize)


def _draw_lines_points(ax, layer: MapLayer) -> bool:
    """Draw the line and point parts of a layer (a 线状 or 点状 site); whether there were any."""
    drawn = False
    geoms = np.asarray([g for g in layer.geoms if g is not None], dtype=object)
    if not len(geoms):
        return False
    odd = geoms[~np.isin(shapely.get_type_id(geoms), (3, 6))]  # not (multi)polygons
    for g in odd:
        if g.is_empty:
            continue
        for part in shapely.get_parts(g):
            tid = shapely.get_type_id(part)
            if tid in (1, 2):  # LineString, LinearRing
                xy = np.asarray(part.coords)[:, :2]
                ax.plot(xy[:, 0], xy[:, 1], color=layer.edgecolor, linewidth=layer.linewidth,
                        linestyle=layer.linestyle, solid_capstyle="round")
                drawn = True
            elif tid == 0:  # Point
                ax.plot([part.x], [part.y], marker="o", markersize=6, color=layer.edgecolor,
                        markeredgecolor="white")
                drawn = True
    return drawn


def _line_handle(layer: MapLayer):
    from matplotlib.lines import Line2D

    return Line2D([0], [0], color=layer.edgecolor, linewidth=layer.linewidth,
                  linestyle=layer.linestyle, label=layer.label)


def draw_inner_band(ax, layer: MapLayer) -> None:
    """Hatch a band along the inside of each polygon's edge (the inside of the zone)."""
    from matplotlib.collections import PathCollection

    geoms = np.asarray([g for g in layer.geoms if g is not None and not g.is_empty], dtype=object)
    if not len(geoms):
        return
    bands = shapely.difference(geoms, shapely.buffer(geoms, -layer.inner_band))
    paths = [p for p in (_path(b) for b in bands) if p is not None]
    if paths:
        ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=layer.edgecolor,
                                         linewidths=0.0, hatch=layer.hatch))


def synthetic_mark(fig, ax) -> None:
    """The 模拟数据 mark: a red line above the map and a light diagonal word across it."""
    ax.annotate("模拟数据　仅供演示，不得作为审批依据", xy=(0.5, 1.0), xycoords="axes fraction",
                xytext=(0, 22), textcoords="offset points", ha="center", va="bottom",
                fontsize=8, color="#C00000", fontweight="bold")
    ax.text(0.5, 0.5, "模拟数据", transform=ax.transAxes, ha="center", va="center",
            fontsize=40, color="#C00000", alpha=0.18, rotation=30, zorder=10)


def map_note(ax, text: str) -> None:
    """Small grey text under the map's axis labels (示意图/审图号, sources)."""
    ax.annotate(text, xy=(0.0, 0.0), xycoords="axes fraction", xytext=(0, -32),
                textcoords="offset points", ha="left", va="top", fontsize=6, color="#555555")


def render_map(
    layers: Sequence[MapLayer],
    out: str | Path | None = None,
    *,
    extent: tuple[float, float, float, float] | None = None,
    title: str = "",
    labels: Sequence[tuple[float, float, str]] = (),
    size_inches: tuple[float, float] = (6.3, 5.6),
    dpi: int = 150,
    note: str = "",
    synthetic: bool = False,
    map_approval: str = "",
) -> bytes:
    """Draw layers (bottom first) and return the PNG bytes.

    Parameters
    ----------
    layers : sequence of MapLayer
        Drawn in order, the first at the bottom.
    out : str or Path, optional
        Also write the PNG there.
    extent : tuple, optional
        (minx, miny, maxx, maxy) lon/lat; default: all geometries, padded 10 %.
    title : str
        Title above the map.
    labels : sequence of (lon, lat, text)
        Text placed on the map (e.g. parcel names).
    size_inches : tuple
        Figure size.
    dpi : int
        Resolution.
    note : str
        Small text under the map (source, version).
    synthetic : bool
        Any layer is synthetic: a red 模拟数据 mark across the map.
    map_approval : str
        审图号; without one the map is marked 示意图.

    Returns
    -------
    bytes
        The PNG.

    Raises
    ------
    onemap.reports.fonts.FontNotFoundError
        If no CJK font is installed.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Patch

    if extent is None:
        geoms = [g for layer in layers for g in layer.geoms if g is not None and not g.is_empty]
        if not geoms:
            raise ValueError("地图没有可绘制的图形")
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        pad = max(maxx - minx, maxy - miny) * 0.1 or 0.001
        extent = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    minx, miny, maxx, maxy = extent
    with cjk_rc():
        fig, ax = plt.subplots(figsize=size_inches, dpi=dpi)
        try:
            handles = []
            for layer in layers:
                paths, colours = [], []
                for i, g in enumerate(layer.geoms):
                    p = _path(g) if g is not None else None
                    if p is None:
                        continue
                    paths.append(p)
                    if layer.facecolors is not None:
                        colours.append(layer.facecolors[i])
                if _draw_lines_points(ax, layer) and layer.label:
                    handles.append(_line_handle(layer))
                if not paths:
                    continue
                if layer.facecolors is not None:
                    face: object = colours
                else:
                    face = layer.facecolor if layer.facecolor else "none"
                banded = layer.inner_band > 0 and layer.hatch
                coll = PathCollection(
                    paths, facecolors=face, edgecolors=layer.edgecolor,
                    linewidths=layer.linewidth, linestyles=layer.linestyle,
                    alpha=None, hatch=None if banded else layer.hatch,
                )
                if layer.alpha < 1.0 and face != "none":
                    coll.set_alpha(layer.alpha)
                ax.add_collection(coll)
                if banded:
                    draw_inner_band(ax, layer)
                for text, colour in layer.legend:
                    handles.append(Patch(facecolor=colour, edgecolor="#666666", label=text))
                if layer.label:
                    legend_face = ("none" if not layer.facecolor else
                                   matplotlib.colors.to_rgba(layer.facecolor, layer.alpha))
                    handles.append(Patch(
                        facecolor=legend_face, edgecolor=layer.edgecolor,
                        linewidth=max(layer.linewidth, 1.0), linestyle=layer.linestyle,
                        hatch=layer.hatch, label=layer.label,
                    ))
            for x, y, text in labels:
                ax.text(x, y, text, ha="center", va="center", fontsize=8, color="#B00000",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.7})
            ax.set_xlim(minx, maxx)
            ax.set_ylim(miny, maxy)
            ax.set_aspect(1.0 / max(math.cos(math.radians((miny + maxy) / 2)), 0.01))
            ax.tick_params(labelsize=6)
            ax.ticklabel_format(useOffset=False, style="plain")
            ax.set_xlabel("经度（°E）", fontsize=7)
            ax.set_ylabel("纬度（°N）", fontsize=7)
            _scalebar(ax, (minx, miny, maxx, maxy), 7)
            _north_arrow(ax, (minx, miny, maxx, maxy), 8)
            if title:
                ax.set_title(title, fontsize=11)
            if handles:
                ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                          fontsize=7, frameon=False, borderaxespad=0.0)
            mark = f"审图号：{map_approval}" if map_approval else "示意图"
            note = "；".join(x for x in (mark, note) if x)
            map_note(ax, note)
            if synthetic:
                synthetic_mark(fig, ax)
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.05)
        finally:
            plt.close(fig)
    data = buf.getvalue()
    if out is not None:
        Path(out).write_bytes(data)
    return data
