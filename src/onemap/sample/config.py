"""Region parameters of the synthetic sample, read from a YAML file.

A region file (``data/<region>.yaml``) holds everything that is specific to
one city: county adcodes and class profiles, towns, location features,
linear features, nature reserves, red lines and the change rates. The
generator code only reads this model.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from onemap.errors import InputError

Coord = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionInfo(_Model):
    """Identity of the region and where its county boundaries come from."""

    code: str
    name: str
    province: str = ""
    title: str = ""
    boundaries: dict[str, str] = Field(default_factory=dict)
    note: str = ""


class TessellationSpec(_Model):
    """Geometry targets of the DLTB tessellation."""

    vertices_per_patch: float = 29.0
    warp_amplitude: float = Field(0.08, ge=0.0, le=0.15)
    village_warp: float = Field(0.22, ge=0.0, le=0.5)
    full_village_count_at: int = 50_000
    sliver_m2: float = 20.0


class ClassSpec(_Model):
    """One 三调 land class and how the generator places it."""

    name: str
    group: str
    noise_km: float = 2.0
    sigma: float = 1.0
    w: dict[str, float] = Field(default_factory=dict)
    qsxz: str = ""
    czc: bool = False
    czcsxm: str = ""
    czc_far: str = ""
    carved: bool = False


class CultivatedSpec(_Model):
    """Attribute rules of 耕地 (0101–0103)."""

    codes: list[str]
    grade_max: dict[str, int]
    grade_cuts: list[float]
    kcxs_flat: dict[str, float]
    kcxs: dict[str, list[float]]
    zzsx: dict[str, dict[str, float]]
    zzsx_names: dict[str, str]
    river_tbxh: dict[str, str | float] = Field(default_factory=dict)


class FeatureItem(_Model):
    """One point, line or polygon of a location feature."""

    point: Coord | None = None
    line: list[Coord] | None = None
    polygon: list[Coord] | None = None
    scale_km: float
    weight: float = 1.0

    @model_validator(mode="after")
    def _one_shape(self) -> FeatureItem:
        if sum(x is not None for x in (self.point, self.line, self.polygon)) != 1:
            raise ValueError("a feature item needs exactly one of point, line, polygon")
        return self


class LinearFeature(_Model):
    """A river, road or canal carved out of the tessellation as a ribbon."""

    name: str
    dlbm: str
    kind: Literal["water", "road", "canal"]
    width_m: float
    line: list[Coord]


class Reserve(_Model):
    """A nature reserve (自然保护地)."""

    id: str
    name: str
    kind: str = "自然保护区"
    level: str
    approval: str = ""
    authority: str = ""
    core_fraction: float = 0.35
    polygons: list[list[Coord]] | None = None
    line: list[Coord] | None = None
    buffer_m: float = 0.0
    core: list[list[Coord]] | None = None


class Redline(_Model):
    """A piece of the 生态保护红线."""

    name: str
    type: str
    reserve: str | None = None
    line: list[Coord] | None = None
    polygon: list[Coord] | None = None
    buffer_m: float = 0.0


class Planted(_Model):
    """Planted relations between the control lines and the farmland."""

    yjjbnt_share: float = 0.8
    czkfbj_yjjbnt_conflicts: float = 0.003


class ChangeSpec(_Model):
    """Rates of the 年度变更 (fractions of the base-year patch count)."""

    build_farmland: float = 0.0035
    build_yjjbnt: float = 0.001
    build_redline: float = 0.0002
    build_other: float = 0.001
    greening: float = 0.0025
    reclamation: float = 0.002
    attribute: float = 0.004
    split: float = 0.0015
    merge: float = 0.001
    partial_share: float = 0.5
    build_classes: dict[str, float]
    redline_build_classes: dict[str, float]


class Names(_Model):
    """Pools the village and community names are drawn from."""

    village_prefix: list[str]
    village_suffix: list[str]
    community_prefix: list[str]


class Town(_Model):
    """A 乡级 unit (街道, 镇 or 乡) with an approximate seat."""

    name: str
    kind: Literal["街道", "镇", "乡"]
    rank: str = "town"
    center: Coord
    kfbj_km: float = 0.0
    core_czcsxm: str = ""


class County(_Model):
    """A 县级 unit: adcode, profile and towns."""

    code: str
    name: str
    villages: int
    density: float = 1.0
    slope: float = 0.2
    terrace: float = 0.2
    gddb: dict[str, float]
    profile: dict[str, float]
    towns: list[Town]

    @field_validator("code")
    @classmethod
    def _six_digits(cls, v: str) -> str:
        if len(v) != 6 or not v.isdigit():
            raise ValueError(f"county code must be a 6-digit adcode: {v!r}")
        return v


class TownRank(_Model):
    """Kernel radii of a town rank."""

    town_km: float
    core_km: float
    core_czcsxm: str = "202"


class MiningArea(_Model):
    """An approximate mining area: rights of one mineral are drawn around its centre."""

    name: str
    center: Coord
    radius_km: float = Field(gt=0)
    mineral: str
    method: Literal["露天开采", "地下开采", "露天/地下开采", "其他"]
    rights: int = Field(ge=1, le=20)
    output_mt: tuple[float, float]
    scale_mt: tuple[float, float]
    elevation: tuple[float, float]


class Hill(_Model):
    """An approximate hill area: hazard points and one risk zone are drawn around its centre."""

    name: str
    center: Coord
    radius_km: float = Field(gt=0)
    points: int = Field(ge=1, le=50)
    risk: Literal["极高", "高", "中", "低"]
    types: list[str] = Field(min_length=1)


class RegisterSample(_Model):
    """Where the sample's register records come from (counts per county, mining areas, hills)."""

    per_county: dict[str, int] = Field(default_factory=dict)
    mining_areas: list[MiningArea] = Field(default_factory=list)
    hills: list[Hill] = Field(default_factory=list)


class RegionConfig(_Model):
    """All parameters of one region's synthetic sample."""

    region: RegionInfo
    ysdm: dict[str, str] = Field(default_factory=dict)
    years: dict[str, int]
    tessellation: TessellationSpec = TessellationSpec()
    density: dict[str, float]
    classes: dict[str, ClassSpec]
    cultivated: CultivatedSpec
    features: dict[str, list[FeatureItem] | float]
    linear_features: list[LinearFeature] = Field(default_factory=list)
    reserves: list[Reserve] = Field(default_factory=list)
    redlines: list[Redline] = Field(default_factory=list)
    planted: Planted = Planted()
    changes: ChangeSpec
    names: Names
    counties: list[County]
    town_ranks: dict[str, TownRank]
    registers: RegisterSample = RegisterSample()
    source: str = ""
    sha256: str = ""

    @model_validator(mode="after")
    def _check(self) -> RegionConfig:
        for county in self.counties:
            unknown = [c for c in county.profile if c not in self.classes]
            if unknown:
                raise ValueError(f"{county.name}: profile classes not in `classes`: {unknown}")
            carved = [c for c in county.profile if self.classes[c].carved]
            if carved:
                raise ValueError(f"{county.name}: carved classes cannot have a profile: {carved}")
            for town in county.towns:
                if town.rank not in self.town_ranks:
                    raise ValueError(f"{town.name}: unknown rank {town.rank!r}")
        for lf in self.linear_features:
            if lf.dlbm not in self.classes:
                raise ValueError(f"{lf.name}: class {lf.dlbm} not in `classes`")
        ids = {r.id for r in self.reserves}
        for rl in self.redlines:
            if rl.reserve is not None and rl.reserve not in ids:
                raise ValueError(f"{rl.name}: unknown reserve {rl.reserve!r}")
        return self

    def feature_items(self) -> dict[str, list[FeatureItem]]:
        """The named feature item lists (scalars such as ``road_scale_km`` left out)."""
        return {k: v for k, v in self.features.items() if isinstance(v, list)}

    def feature_scalar(self, key: str, default: float) -> float:
        """A scalar entry of ``features`` (e.g. ``road_scale_km``)."""
        value = self.features.get(key, default)
        return float(value) if not isinstance(value, list) else default


def load_region(region: str | Path = "wuzhong") -> RegionConfig:
    """Load and validate a region file.

    Parameters
    ----------
    region : str or Path
        A name of a bundled file (``"wuzhong"`` → ``data/wuzhong.yaml``) or a
        path to a YAML file with the same structure.

    Returns
    -------
    RegionConfig

    Raises
    ------
    onemap.errors.InputError
        If the file is missing or invalid.
    """
    path = Path(region)
    if path.suffix.lower() in {".yaml", ".yml"} or path.exists():
        if not path.exists():
            raise InputError(f"找不到区域参数文件：{path}")
        text = path.read_bytes()
        source = str(path)
    else:
        res = resources.files("onemap.sample").joinpath("data", f"{region}.yaml")
        if not res.is_file():
            raise InputError(f"没有内置的区域参数：{region}")
        text = res.read_bytes()
        source = f"onemap.sample/data/{region}.yaml"
    try:
        raw = yaml.safe_load(text.decode("utf-8"))
        raw["source"] = source
        raw["sha256"] = hashlib.sha256(text).hexdigest()
        return RegionConfig.model_validate(raw)
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        raise InputError(f"区域参数文件无效（{source}）：{exc}") from exc
