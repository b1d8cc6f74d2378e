"""Read the vector files bureau staff receive into one :class:`SourceData`.

Supported sources
-----------------
* ``.shp`` with its ``.dbf`` and ``.shx`` (``.prj`` and ``.cpg`` optional);
* ``.zip`` holding shapefiles, FileGDB folders, GeoPackages or GeoJSON files,
  read in place through GDAL's ``/vsizip/``;
* ``.gpkg`` GeoPackage;
* ``.gdb`` FileGDB folder (GDAL's OpenFileGDB driver, bundled with pyogrio);
* ``.geojson`` / ``.json``.

Two things GDAL does not do for us are done here:

* **Shapefile encoding.** Without a ``.cpg`` GDAL decodes attributes as
  ISO-8859-1 and silently returns mojibake for the GBK files staff usually
  receive. The ``.dbf`` is therefore scanned first: text that is valid UTF-8
  is read as UTF-8, anything else as GB18030 (a superset of GBK).
* **Truncation.** GDAL reads a ``.dbf`` cut short as fewer rows and a ``.shp``
  cut short as rows without geometry, and a truncated FileGDB table as fewer
  rows, all without an error. Headers are checked against the bytes present
  and the rows read against the count the driver declares.

Files are read through pyogrio's Arrow stream in batches, so a progress
callback can be informed as rows arrive.
"""

from __future__ import annotations

import codecs
import hashlib
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyogrio
import pyogrio.errors
import pyproj
import pyproj.exceptions
import shapely
import shapely.errors

from onemap.errors import Problem, ReadError

__all__ = ["SUPPORTED_SUFFIXES", "SourceData", "list_layers", "read_source"]

#: File name endings :func:`read_source` accepts.
SUPPORTED_SUFFIXES = (".shp", ".zip", ".gpkg", ".gdb", ".geojson", ".json")

_SUPPORTED_TEXT = (
    "Shapefile（.shp）、zip 压缩包、FileGDB（.gdb 文件夹）、GeoPackage（.gpkg）、GeoJSON"
)
_SHP_SIDECARS = (".shp", ".dbf", ".shx", ".prj", ".cpg")
_BATCH_ROWS = 65536
_SCAN_BYTES = 16 * 1024 * 1024
_HASH_BLOCK = 1024 * 1024

#: What reading a damaged file or zip member can raise.
_STREAM_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    UnicodeDecodeError,  # a member name flagged UTF-8 that is not
    NotImplementedError,  # a zip compression method or version Python does not know
)
_GDAL_ERRORS: tuple[type[BaseException], ...] = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    pa.ArrowException,
    UnicodeDecodeError,
    OSError,
    zipfile.BadZipFile,
    shapely.errors.GEOSException,
    UnboundLocalError,  # pyogrio's read_info on a .prj that is not UTF-8
)


@dataclass
class SourceData:
    """One layer as read from a source file.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        The rows as read: attribute column names upper-cased, geometry column
        named ``"geometry"``, CRS as declared by the file (``None`` if none).
        Geometries are untouched (not repaired, not reprojected).
    path : str
        The path the caller passed.
    file_name : str
        Name for messages, e.g. ``"DLTB.shp"``, ``"delivery.zip!DLTB.shp"`` or
        ``"x.gdb:DLTB"``.
    layer : str or None
        Layer name (for a shapefile, its stem).
    encoding : str or None
        Encoding used for shapefile attributes (``"UTF-8"``, ``"GB18030"``, …);
        ``None`` for other formats, which are UTF-8 by definition.
    checksum : str
        SHA-256 (hex) of the source bytes: for a shapefile its ``.shp``,
        ``.dbf``, ``.shx``, ``.prj``, ``.cpg`` concatenated in that order (those
        present); for a FileGDB all files of the folder sorted by name; else
        the file. Sources inside a zip hash the same member bytes, so a
        delivery gives the same checksum zipped or not.
    crs : pyproj.CRS or None
        CRS as declared by the file (``.prj`` or layer metadata), ``None`` if
        none is declared.
    notes : list of str
        Chinese remarks on what was inferred while reading (encoding chosen,
        options ignored, strings repaired).
    """

    gdf: gpd.GeoDataFrame
    path: str
    file_name: str
    layer: str | None
    encoding: str | None
    checksum: str
    crs: pyproj.CRS | None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------
# physical files (on disk or in a zip)


@dataclass(frozen=True)
class _Part:
    """One physical file of a source, on disk or a member of a zip."""

    name: str
    size: int
    local: Path | None = None
    zip_path: Path | None = None
    member: str | None = None

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """Open the file for binary reading."""
        if self.local is not None:
            with open(self.local, "rb") as f:
                yield f
        else:
            assert self.zip_path is not None and self.member is not None
            with zipfile.ZipFile(self.zip_path) as zf, zf.open(self.member) as f:
                yield f  # type: ignore[misc]


@dataclass
class _Layer:
    """A readable layer of a source and how GDAL reaches it."""

    key: str
    kind: str  # "shp", "gdb", "gpkg" or "geojson"
    gdal_path: str
    gdal_layer: str | None
    file_name: str
    parts: list[_Part]
    sidecars: dict[str, _Part] = field(default_factory=dict)


def _fail(rule: str, message: str, file: str | None, **where: str) -> ReadError:
    """Build a ReadError with one problem."""
    return ReadError(message, [Problem(rule=rule, message=message, file=file, **where)])


def _gdal_detail(exc: BaseException) -> str:
    """Short text of a GDAL/pyogrio error for a message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _corrupt(file_name: str, exc: BaseException) -> ReadError:
    """ReadError for a file GDAL could not read."""
    return _fail(
        "corrupt_file",
        f"无法读取 {file_name}：文件已损坏、不完整或格式不符（{_gdal_detail(exc)}）",
        file_name,
    )


# ---------------------------------------------------------------------------
# discovering layers


def _discover(path: str | Path) -> list[_Layer]:
    """Return the spatial layers of a source, raising ReadError if unreadable."""
    p = Path(path)
    shown = p.name or str(path)
    if not p.exists():
        raise _fail("file_not_found", f"文件不存在：{path}", shown)
    suffix = p.suffix.lower()
    if suffix == ".gdb":
        if not p.is_dir():
            raise _fail("corrupt_file", f"{shown} 不是 FileGDB 文件夹", shown)
        parts = sorted(
            (
                _Part(f.relative_to(p).as_posix(), f.stat().st_size, local=f)
                for f in p.rglob("*")
                if f.is_file()
            ),
            key=lambda q: q.name,
        )
        return _container_layers("gdb", str(p), shown, parts)
    if p.is_dir():
        raise _fail(
            "unknown_format",
            f"{shown} 是一个文件夹而不是 FileGDB（.gdb）；"
            f"请传入其中的数据文件。支持：{_SUPPORTED_TEXT}",
            shown,
        )
    if suffix == ".shp":
        sidecars = _local_sidecars(p)
        return [_shp_layer(p.stem, str(p), shown, sidecars)]
    if suffix == ".zip":
        return _zip_layers(p)
    if suffix == ".gpkg":
        part = _Part(p.name, p.stat().st_size, local=p)
        return _container_layers("gpkg", str(p), shown, [part])
    if suffix in (".geojson", ".json"):
        part = _Part(p.name, p.stat().st_size, local=p)
        return _single_layers("geojson", str(p), shown, [part])
    if suffix in (".dbf", ".shx", ".prj", ".cpg", ".sbn", ".sbx"):
        raise _fail(
            "unknown_format",
            f"{shown} 是 Shapefile 的附属文件，请传入同名的 .shp 文件",
            shown,
        )
    raise _fail(
        "unknown_format",
        f"无法识别文件 {shown} 的格式（扩展名 {p.suffix or '无'}）；支持：{_SUPPORTED_TEXT}",
        shown,
    )


def _local_sidecars(shp: Path) -> dict[str, _Part]:
    """Files next to ``shp`` with the same stem, keyed by lower-case extension."""
    found: dict[str, _Part] = {}
    for f in shp.parent.iterdir():
        ext = f.suffix.lower()
        if f.stem == shp.stem and ext in _SHP_SIDECARS and f.is_file():
            found.setdefault(ext, _Part(f.name, f.stat().st_size, local=f))
    found[".shp"] = _Part(shp.name, shp.stat().st_size, local=shp)
    return found


def _shp_layer(key: str, gdal_path: str, file_name: str, sidecars: dict[str, _Part]) -> _Layer:
    """Layer record of one shapefile."""
    parts = [sidecars[e] for e in _SHP_SIDECARS if e in sidecars]
    return _Layer(key, "shp", gdal_path, None, file_name, parts, sidecars)


def _gdal_layers(gdal_path: str, shown: str) -> list[tuple[str, str | None]]:
    """Layer names and geometry types GDAL sees in a dataset."""
    try:
        listed = pyogrio.list_layers(gdal_path)
    except _GDAL_ERRORS as exc:
        raise _corrupt(shown, exc) from exc
    return [(str(name), None if gtype is None else str(gtype)) for name, gtype in listed]


def _container_layers(kind: str, gdal_path: str, shown: str, parts: list[_Part]) -> list[_Layer]:
    """Spatial layers of a multi-layer dataset (FileGDB, GeoPackage)."""
    layers = []
    for name, gtype in _gdal_layers(gdal_path, shown):
        if gtype is None:  # attribute-only table
            continue
        layers.append(_Layer(name, kind, gdal_path, name, f"{shown}:{name}", parts))
    return layers


def _single_layers(kind: str, gdal_path: str, shown: str, parts: list[_Part]) -> list[_Layer]:
    """The one layer of a single-layer file (GeoJSON)."""
    listed = _gdal_layers(gdal_path, shown)
    key = listed[0][0] if listed else PurePosixPath(shown).stem
    return [_Layer(key, kind, gdal_path, None, shown, parts)]


def _zip_display(info: zipfile.ZipInfo) -> str:
    """Member name for people: names without the UTF-8 flag are usually GBK."""
    name = info.filename
    if info.flag_bits & 0x800:
        return name
    try:
        return name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _zip_layers(p: Path) -> list[_Layer]:
    """Layers of every shapefile, FileGDB, GeoPackage and GeoJSON in a zip."""
    shown = p.name
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, NotImplementedError) as exc:
        raise _fail(
            "corrupt_file", f"{shown} 不是有效的 zip 压缩包（{_gdal_detail(exc)}）", shown
        ) from exc
    zip_abs = p.resolve()
    vsi = f"/vsizip/{zip_abs.as_posix()}"
    entries = []
    for info in infos:
        pp = PurePosixPath(info.filename)
        if info.is_dir() or "__MACOSX" in pp.parts or pp.name.startswith("._"):
            continue
        if info.flag_bits & 0x1:
            raise _fail(
                "corrupt_file", f"{shown} 中的 {_zip_display(info)} 已加密，无法读取", shown
            )
        entries.append(info)

    def part(info: zipfile.ZipInfo, name: str | None = None) -> _Part:
        return _Part(
            name or _zip_display(info), info.file_size, zip_path=zip_abs, member=info.filename
        )

    found: list[tuple[_Layer, str]] = []  # (layer, qualified key used on collisions)
    # shapefiles: group members by folder and stem
    groups: dict[tuple[str, str], dict[str, zipfile.ZipInfo]] = {}
    gdb_roots: dict[str, list[zipfile.ZipInfo]] = {}
    singles: list[tuple[str, zipfile.ZipInfo]] = []
    for info in entries:
        pp = PurePosixPath(info.filename)
        gdb_idx = next((i for i, c in enumerate(pp.parts[:-1]) if c.lower().endswith(".gdb")), None)
        if gdb_idx is not None:
            root = "/".join(pp.parts[: gdb_idx + 1])
            gdb_roots.setdefault(root, []).append(info)
            continue
        ext = pp.suffix.lower()
        if ext in _SHP_SIDECARS:
            groups.setdefault((str(pp.parent), pp.stem), {}).setdefault(ext, info)
        elif ext == ".gpkg":
            singles.append(("gpkg", info))
        elif ext in (".geojson", ".json"):
            singles.append(("geojson", info))

    for (_folder, _stem), members in sorted(groups.items()):
        if ".shp" not in members:
            continue
        shp = members[".shp"]
        disp = _zip_display(shp)
        sidecars = {ext: part(m) for ext, m in members.items()}
        layer = _shp_layer(
            PurePosixPath(disp).stem, f"{vsi}/{shp.filename}", f"{shown}!{disp}", sidecars
        )
        found.append((layer, str(PurePosixPath(disp).with_suffix(""))))
    for root, members in sorted(gdb_roots.items()):
        depth = len(PurePosixPath(root).parts)
        root_disp = "/".join(_zip_display(members[0]).split("/")[:depth])
        parts = sorted(
            (part(m, m.filename[len(root) + 1 :]) for m in members), key=lambda q: q.name
        )
        layers = _container_layers("gdb", f"{vsi}/{root}", f"{shown}!{root_disp}", parts)
        for layer in layers:
            found.append((layer, f"{root_disp}:{layer.key}"))
    for kind, info in singles:
        disp = _zip_display(info)
        gdal_path = f"{vsi}/{info.filename}"
        if kind == "gpkg":
            layers = _container_layers(kind, gdal_path, f"{shown}!{disp}", [part(info)])
            for layer in layers:
                found.append((layer, f"{disp}:{layer.key}"))
        else:
            try:
                (layer,) = _single_layers(kind, gdal_path, f"{shown}!{disp}", [part(info)])
            except ReadError:
                if disp.lower().endswith(".json"):
                    continue  # some other JSON (metadata, …) travelling with the data
                raise
            found.append((layer, str(PurePosixPath(disp).with_suffix(""))))

    if not found:
        raise _fail(
            "no_layer",
            f"{shown} 中没有找到可读取的数据（Shapefile、FileGDB、GeoPackage 或 GeoJSON）",
            shown,
        )
    keys = [layer.key for layer, _q in found]
    for layer, qualified in found:
        if keys.count(layer.key) > 1:
            layer.key = qualified
    return [layer for layer, _q in found]


def _select(layers: list[_Layer], layer: str | None, shown: str) -> _Layer:
    """Pick the layer the caller asked for (or the only one)."""
    names = "、".join(item.key for item in layers)
    if not layers:
        raise _fail("no_layer", f"{shown} 中没有含几何的图层", shown)
    if layer is None:
        if len(layers) == 1:
            return layers[0]
        raise _fail(
            "layer_required",
            f"{shown} 含有多个图层（{names}），请用 --layer 指定要读取的图层",
            shown,
        )
    exact = [item for item in layers if item.key == layer]
    if len(exact) == 1:
        return exact[0]
    folded = [item for item in layers if item.key.casefold() == layer.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise _fail(
        "layer_not_found",
        f"{shown} 中没有图层 {layer}；可用的图层：{names}",
        shown,
    )


# ---------------------------------------------------------------------------
# shapefile structure and encoding


@dataclass
class _DbfHeader:
    """Layout of a .dbf file."""

    n_records: int
    header_len: int
    record_len: int
    fields: list[tuple[bytes, int, int]]  # (raw name, offset in record, width) of text fields
    name_bytes: list[bytes]


def _read_head(part: _Part, n: int) -> bytes:
    """First ``n`` bytes of a part (fewer if the file is shorter)."""
    with part.open() as f:
        return f.read(n)


def _check_shp(part: _Part, file_name: str) -> None:
    """Refuse a .shp whose header length exceeds the bytes present."""
    head = _read_head(part, 100)
    if len(head) < 100 or struct.unpack(">i", head[:4])[0] != 9994:
        raise _fail(
            "corrupt_file", f"{file_name} 不是有效的 .shp 文件（文件头损坏或过短）", file_name
        )
    declared = struct.unpack(">i", head[24:28])[0] * 2
    if part.size < declared:
        raise _fail(
            "truncated_file",
            f"{file_name} 不完整：文件头声明 {declared} 字节，"
            f"实际只有 {part.size} 字节（文件可能被截断）",
            file_name,
        )


def _check_shx(part: _Part, shp_size: int, file_name: str) -> int:
    """Check the .shx against itself and the .shp; return its record count."""
    with part.open() as f:
        data = f.read()
    shx_name = str(PurePosixPath(file_name).with_suffix(".shx"))
    if len(data) < 100 or struct.unpack(">i", data[:4])[0] != 9994:
        raise _fail("corrupt_file", f"{shx_name} 不是有效的 .shx 索引文件", file_name)
    declared = struct.unpack(">i", data[24:28])[0] * 2
    if len(data) < declared or (declared - 100) % 8:
        raise _fail(
            "truncated_file",
            f"{shx_name} 不完整：文件头声明 {declared} 字节，"
            f"实际只有 {len(data)} 字节（文件可能被截断）",
            file_name,
        )
    n = (declared - 100) // 8
    if n:
        index = np.frombuffer(data, dtype=">i4", count=2 * n, offset=100).astype(np.int64)
        beyond = np.flatnonzero(index[0::2] * 2 + 8 + index[1::2] * 2 > shp_size)
        if beyond.size:
            last = int(beyond[0])
            raise _fail(
                "truncated_file",
                f"{file_name} 不完整：第 {last + 1} 条记录超出文件末尾（.shp 只有 {shp_size} 字节，"
                "文件可能被截断）",
                file_name,
                row=str(last + 1),
            )
    return n


def _read_dbf_header(part: _Part, file_name: str) -> _DbfHeader:
    """Parse the .dbf header and refuse a .dbf shorter than it declares."""
    dbf_name = str(PurePosixPath(file_name).with_suffix(".dbf"))
    head = _read_head(part, 32)
    if len(head) < 32:
        raise _fail("corrupt_file", f"{dbf_name} 不是有效的 .dbf 文件（文件过短）", file_name)
    n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    if header_len < 33 or record_len < 1:
        raise _fail("corrupt_file", f"{dbf_name} 不是有效的 .dbf 文件（文件头损坏）", file_name)
    expected = header_len + n_records * record_len
    if part.size < expected:
        raise _fail(
            "truncated_file",
            f"{dbf_name} 不完整：文件头声明 {n_records} 条记录、应有 {expected} 字节，"
            f"实际只有 {part.size} 字节（文件可能被截断）",
            file_name,
        )
    desc = _read_head(part, header_len)
    widths: list[tuple[bytes, str, int, int]] = []
    for pos in range(32, header_len - 31, 32):
        if desc[pos] == 0x0D:
            break
        raw_name = desc[pos : pos + 11].split(b"\x00", 1)[0]
        ftype = chr(desc[pos + 11])
        widths.append((raw_name, ftype, desc[pos + 16], desc[pos + 17]))
    # some writers store long character widths as width + 256 * decimals
    fields: list[tuple[bytes, int, int]] = []
    names: list[bytes] = []
    for extended in (False, True):
        offset, fields, names = 1, [], []  # offset 0 is the deletion flag
        for raw_name, ftype, width, decimals in widths:
            w = width + 256 * decimals if extended and ftype == "C" else width
            if ftype in ("C", "M", "V"):
                fields.append((raw_name, offset, w))
            names.append(raw_name)
            offset += w
        if offset == record_len:
            break
    else:
        # layout not understood: scan each whole record as text
        fields = [(b"*", 1, record_len - 1)]
    return _DbfHeader(n_records, header_len, record_len, fields, names)


def _decodes(raw: bytes, codec: str) -> bool:
    """True if one field value decodes, allowing a character cut at the end.

    Writers cut text at the field width, sometimes inside a multi-byte
    character; such a value is still taken as valid in ``codec`` when only its
    last (at most three) bytes fail and they begin a character.
    """
    value = raw.rstrip(b" \x00")
    try:
        value.decode(codec)
        return True
    except UnicodeDecodeError as exc:
        start = exc.start
    if len(value) - start > 3:
        return False
    try:
        value[:start].decode(codec)
        codecs.getincrementaldecoder(codec)().decode(value[start:], final=False)
    except UnicodeDecodeError:
        return False
    return True


@dataclass
class _DbfScan:
    """What a pass over the .dbf records found."""

    deleted: int = 0
    failures: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # codec → (record, field)


def _scan_dbf(part: _Part, header: _DbfHeader, codecs_: tuple[str, ...]) -> _DbfScan:
    """Count deleted records and test which codecs decode every text value."""
    scan = _DbfScan()
    alive = list(dict.fromkeys(codecs_))
    for raw_name in header.name_bytes:
        if any(b >= 0x80 for b in raw_name):
            for codec in list(alive):
                if not _decodes(raw_name, codec):
                    scan.failures[codec] = (-1, raw_name)
                    alive.remove(codec)
    per_chunk = max(1, _SCAN_BYTES // header.record_len)
    with part.open() as f:
        f.read(header.header_len)
        done = 0
        while done < header.n_records:
            count = min(per_chunk, header.n_records - done)
            buf = f.read(count * header.record_len)
            count = len(buf) // header.record_len
            if count == 0:
                break
            rec = np.frombuffer(buf, dtype=np.uint8, count=count * header.record_len)
            rec = rec.reshape(count, header.record_len)
            scan.deleted += int(np.count_nonzero(rec[:, 0] == 0x2A))
            for raw_name, off, width in header.fields:
                col = rec[:, off : off + width]
                rows = np.flatnonzero((col >= 0x80).any(axis=1))
                if rows.size == 0:
                    continue
                sub = col[rows]
                for codec in list(alive):
                    try:
                        sub.tobytes().decode(codec)
                        continue
                    except UnicodeDecodeError:
                        pass  # look value by value: a cut character is allowed
                    for r, value in zip(rows, sub, strict=True):
                        if not _decodes(value.tobytes(), codec):
                            scan.failures[codec] = (done + int(r), raw_name)
                            alive.remove(codec)
                            break
            done += count
    return scan


#: .cpg spellings seen in deliveries, mapped to Python codecs.
_CPG_ALIASES = {
    "UTF8": "utf-8",
    "UTF-8": "utf-8",
    "65001": "utf-8",
    "GBK": "gb18030",
    "CP936": "gb18030",
    "936": "gb18030",
    "GB2312": "gb18030",
    "20936": "gb18030",
    "GB18030": "gb18030",
    "54936": "gb18030",
    "BIG5": "big5",
    "950": "big5",
    "1252": "cp1252",
    "88591": "latin-1",
    "28591": "latin-1",
}

#: Python codec names mapped to names GDAL (iconv) knows.
_GDAL_NAMES = {
    "utf-8": "UTF-8",
    "gb18030": "GB18030",
    "gbk": "GBK",
    "gb2312": "GB2312",
    "big5": "BIG5",
    "cp1252": "CP1252",
    "iso8859-1": "ISO-8859-1",
    "latin-1": "ISO-8859-1",
}


def _codec(name: str, *, widen: bool = True) -> str | None:
    """Python codec for a .cpg (or user) encoding name, ``None`` if unknown.

    With ``widen`` the GBK family (GBK, CP936, GB2312) maps to its superset
    GB18030, as is done for ``.cpg`` files; a user's explicit choice is kept.
    """
    text = name.strip().upper()
    if text.startswith("ANSI"):
        text = text[4:].strip(" _-")
    if widen and text in _CPG_ALIASES:
        return _CPG_ALIASES[text]
    candidates = [text.lower()] + ([f"cp{text}"] if text.isdigit() else [])
    for cand in candidates:
        try:
            return codecs.lookup(cand).name
        except (LookupError, ValueError):  # unknown name, or bytes such as NUL in a damaged .cpg
            continue
    return None


def _gdal_encoding(codec: str) -> str:
    """Encoding name to hand to GDAL for a Python codec name."""
    return _GDAL_NAMES.get(codec, codec.upper())


def _text_name(raw: bytes) -> str:
    """Best-effort readable field name for messages."""
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _prepare_shapefile(layer: _Layer, user_encoding: str | None) -> tuple[str, int, list[str]]:
    """Check a shapefile's structure and choose its encoding.

    Returns
    -------
    tuple
        ``(gdal_encoding, deleted_records, notes)``.
    """
    name = layer.file_name
    side = layer.sidecars
    missing = [ext for ext in (".dbf", ".shx") if ext not in side]
    if missing:
        what = "、".join(missing)
        raise _fail(
            "missing_sidecar",
            f"{name} 缺少配套文件 {what}；Shapefile 必须同时提供 .shp、.shx、.dbf（最好还有 .prj）",
            name,
        )
    _check_shp(side[".shp"], name)
    header = _read_dbf_header(side[".dbf"], name)
    n_shx = _check_shx(side[".shx"], side[".shp"].size, name)
    if n_shx != header.n_records:
        raise _fail(
            "corrupt_file",
            f"{name} 的 .shx 有 {n_shx} 条记录而 .dbf 有 {header.n_records} 条，文件不配套或已损坏",
            name,
        )
    notes: list[str] = []
    if user_encoding:
        codec = _codec(user_encoding, widen=False)
        if codec is None:
            raise _fail("unknown_encoding", f"不认识的编码 {user_encoding}（读取 {name}）", name)
        scan = _scan_dbf(side[".dbf"], header, (codec,))
        if codec in scan.failures:
            rec, raw = scan.failures[codec]
            where = (
                f"字段名 {_text_name(raw)}"
                if rec < 0
                else f"第 {rec + 1} 条记录的字段 {_text_name(raw)}"
            )
            raise _fail(
                "encoding_error",
                f"{name} 的属性无法按指定编码 {user_encoding} 解码（{where}）；"
                "请检查 --encoding，或不指定编码让系统自动判断",
                name,
                **({} if rec < 0 else {"row": str(rec + 1)}),
                field=_text_name(raw),
            )
        return _gdal_encoding(codec), scan.deleted, notes

    declared = None
    if ".cpg" in side:
        cpg_text = _read_head(side[".cpg"], 200).decode("ascii", errors="replace").strip()
        declared = _codec(cpg_text) if cpg_text else None
        if declared is None:
            notes.append(f".cpg 中的编码“{cpg_text}”无法识别，已根据属性内容判断编码")
    candidates = tuple(dict.fromkeys(c for c in (declared, "utf-8", "gb18030") if c))
    scan = _scan_dbf(side[".dbf"], header, candidates)
    if declared and declared not in scan.failures:
        return _gdal_encoding(declared), scan.deleted, notes
    chosen = "utf-8" if "utf-8" not in scan.failures else "gb18030"
    if declared and chosen != declared:
        notes.append(
            f".cpg 声明的编码 {_gdal_encoding(declared)} 与属性内容不符，"
            f"已按 {_gdal_encoding(chosen)} 读取"
        )
    elif not declared and chosen == "gb18030":
        notes.append("未找到可用的 .cpg 编码声明，属性内容不是 UTF-8，已按 GB18030（兼容 GBK）读取")
    if chosen in scan.failures:
        rec, raw = scan.failures[chosen]
        where = (
            f"字段名 {_text_name(raw)}"
            if rec < 0
            else f"第 {rec + 1} 条记录的字段 {_text_name(raw)}"
        )
        notes.append(
            f"{name} 的{where}含有无法按 {_gdal_encoding(chosen)} 解码的字节，已被替换或丢弃"
        )
    return _gdal_encoding(chosen), scan.deleted, notes


def _check_gdb_tables(layer: _Layer) -> None:
    """Refuse a FileGDB whose ``.gdbtable`` files are shorter than their headers say."""
    for part in layer.parts:
        if not part.name.lower().endswith(".gdbtable"):
            continue
        head = _read_head(part, 40)
        if len(head) < 40:
            raise _fail(
                "truncated_file",
                f"{layer.file_name} 的 {part.name} 不完整（文件过短）",
                layer.file_name,
            )
        version, declared = struct.unpack("<i", head[:4])[0], struct.unpack("<q", head[24:32])[0]
        if version == 3 and declared > part.size:
            raise _fail(
                "truncated_file",
                f"{layer.file_name} 的 {part.name} 不完整：文件头声明 {declared} 字节，实际只有 "
                f"{part.size} 字节（文件可能被截断）",
                layer.file_name,
            )


# ---------------------------------------------------------------------------
# reading


def _repair_strings(table: pa.Table, file_name: str, notes: list[str]) -> pa.Table:
    """Fix text columns holding invalid UTF-8 (characters cut by the field width)."""
    for i, fld in enumerate(table.schema):
        if not (pa.types.is_string(fld.type) or pa.types.is_large_string(fld.type)):
            continue
        column = table.column(i)
        try:
            for chunk in column.chunks:
                chunk.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        fixed = 0
        values = []
        for raw in column.cast(pa.large_binary()).to_pylist():
            if raw is None:
                values.append(None)
                continue
            try:
                values.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                fixed += 1
                text = raw.decode("utf-8", errors="replace").rstrip("\ufffd")
                values.append(text)
        table = table.set_column(i, fld, pa.chunked_array([pa.array(values, type=fld.type)]))
        notes.append(
            f"{file_name} 字段 {fld.name.upper()} 有 {fixed} 条值含残缺字符"
            "（多字节字符被字段宽度截断），已去除残缺部分"
        )
    return table


def _wkb_values(column: pa.ChunkedArray) -> np.ndarray:
    """WKB bytes of a geometry column as an object array (None for nulls)."""
    arrays = [c.storage if isinstance(c, pa.ExtensionArray) else c for c in column.chunks]
    if not arrays:
        return np.empty(0, dtype=object)
    return np.concatenate([a.to_numpy(zero_copy_only=False) for a in arrays]).astype(object)


def _read_layer(
    layer: _Layer,
    encoding: str | None,
    deleted: int,
    progress: Callable[[int, int], None] | None,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, pyproj.CRS | None]:
    """Read one layer through the Arrow stream and check the row count."""
    kwargs: dict[str, object] = {"layer": layer.gdal_layer}
    if encoding:
        kwargs["encoding"] = encoding
    name = layer.file_name
    try:
        info = pyogrio.read_info(layer.gdal_path, **kwargs)
        declared = int(info.get("features", -1))
        expected = declared - deleted if declared >= 0 else -1
        batches = []
        done = 0
        with pyogrio.open_arrow(
            layer.gdal_path, use_pyarrow=True, batch_size=_BATCH_ROWS, **kwargs
        ) as (meta, reader):
            schema = reader.schema
            for batch in reader:
                batches.append(batch)
                done += batch.num_rows
                if progress is not None:
                    progress(done, max(expected, done))
        table = pa.Table.from_batches(batches, schema=schema)
    except _GDAL_ERRORS as exc:
        raise _corrupt(name, exc) from exc
    if expected >= 0 and table.num_rows < expected:
        raise _fail(
            "truncated_file",
            f"{name} 不完整：声明 {expected} 条记录，只读到 {table.num_rows} 条"
            "（文件可能被截断或损坏）",
            name,
        )
    if progress is not None and (expected < 0 or not batches):
        progress(table.num_rows, table.num_rows)

    geom_name = meta.get("geometry_name") or "wkb_geometry"
    if geom_name not in table.column_names:
        raise _fail("no_geometry", f"{name} 没有几何字段，不是空间数据图层", name)
    idx = table.schema.get_field_index(geom_name)
    wkb = _wkb_values(table.column(idx))
    table = table.remove_column(idx)
    if layer.kind == "shp":
        table = _repair_strings(table, name, notes)
    try:
        for column in table.columns:  # text that is not UTF-8 (a damaged file) fails here, not later
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column.validate(full=True)
        df = table.to_pandas()
        geometry = shapely.from_wkb(wkb, on_invalid="raise")
    except _GDAL_ERRORS as exc:
        raise _corrupt(name, exc) from exc

    upper = [str(c).upper() for c in df.columns]
    dups = sorted({u for u in upper if upper.count(u) > 1})
    if dups:
        raise _fail(
            "duplicate_field",
            f"{name} 中有仅大小写不同的重名字段：{'、'.join(dups)}",
            name,
            field=dups[0],
        )
    df.columns = upper

    crs = None
    crs_text = meta.get("crs")
    if crs_text:
        try:
            crs = pyproj.CRS.from_user_input(crs_text)
        except pyproj.exceptions.CRSError:
            notes.append(f"{name} 声明的坐标系无法解析，视为未声明")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geometry, index=df.index), crs=crs)
    return gdf, crs


def _checksum(parts: list[_Part], file_name: str) -> str:
    """SHA-256 of the parts' bytes, concatenated in order."""
    digest = hashlib.sha256()
    try:
        for part in parts:
            with part.open() as f:
                for block in iter(lambda f=f: f.read(_HASH_BLOCK), b""):
                    digest.update(block)
    except _STREAM_ERRORS as exc:
        raise _corrupt(file_name, exc) from exc
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# public API


def list_layers(path: str | Path) -> list[str]:
    """List the spatial layers of a source.

    Parameters
    ----------
    path : str or path-like
        A ``.shp``, ``.zip``, ``.gpkg``, ``.gdb`` folder, ``.geojson`` or ``.json``.

    Returns
    -------
    list of str
        Layer names as :func:`read_source` accepts them for ``layer``: the stem
        for a shapefile, the layer name for FileGDB/GeoPackage. In a zip, names
        that occur twice are qualified with their folder or container.
        Attribute-only tables are not listed.

    Raises
    ------
    onemap.errors.ReadError
        The file does not exist, has an unknown format or cannot be opened.
    """
    return [layer.key for layer in _discover(path)]


def read_source(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SourceData:
    """Read one layer of a source file.

    Parameters
    ----------
    path : str or path-like
        A ``.shp``, ``.zip``, ``.gpkg``, ``.gdb`` folder, ``.geojson`` or ``.json``.
    layer : str, optional
        Layer to read; required when the source has several spatial layers.
        Matched exactly, else case-insensitively.
    encoding : str, optional
        Attribute encoding of a shapefile (``"GBK"``, ``"UTF-8"``, …), overriding
        the ``.cpg`` and detection. Ignored (with a note) for other formats.
    progress : callable, optional
        Called as ``progress(rows_read, rows_total)`` after each batch of rows.

    Returns
    -------
    SourceData
        The rows, names, encoding, checksum and declared CRS.

    Raises
    ------
    onemap.errors.ReadError
        Missing file, unknown format, corrupt or truncated file, shapefile
        without ``.dbf``/``.shx``, undecodable attributes, several layers and
        none chosen, or an unknown layer. Each carries a :class:`Problem`
        whose ``rule`` is one of ``file_not_found``, ``unknown_format``,
        ``corrupt_file``, ``truncated_file``, ``missing_sidecar``,
        ``encoding_error``, ``unknown_encoding``, ``layer_required``,
        ``layer_not_found``, ``no_layer``, ``no_geometry``, ``duplicate_field``.

    Notes
    -----
    Shapefile encoding: ``encoding`` if given; else the ``.cpg`` if it names an
    encoding the content agrees with; else UTF-8 if every text value is valid
    UTF-8; else GB18030.
    """
    layers = _discover(path)
    shown = Path(path).name or str(path)
    chosen = _select(layers, layer, shown)
    notes: list[str] = []
    gdal_encoding = None
    deleted = 0
    try:
        if chosen.kind == "shp":
            gdal_encoding, deleted, notes = _prepare_shapefile(chosen, encoding)
        else:
            if encoding:
                notes.append(f"--encoding 仅对 Shapefile 有效，{chosen.file_name} 按 UTF-8 读取")
            if chosen.kind == "gdb":
                _check_gdb_tables(chosen)
    except _STREAM_ERRORS as exc:  # a damaged zip member
        raise _corrupt(chosen.file_name, exc) from exc
    gdf, crs = _read_layer(chosen, gdal_encoding, deleted, progress, notes)
    checksum = _checksum(chosen.parts, chosen.file_name)
    return SourceData(
        gdf=gdf,
        path=str(path),
        file_name=chosen.file_name,
        layer=chosen.key,
        encoding=gdal_encoding,
        checksum=checksum,
        crs=crs,
        notes=notes,
    )
