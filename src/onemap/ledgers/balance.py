"""耕地 balance from change detection (pure): decrease by destination, increase by origin.

The use case hands over the change pieces with their classes already described
(cultivated, paddy, the kind of the other class); areas are 耕地 net of 田坎:
the piece's area × (1 − KCXS) of the version where it is 耕地 (the old patch
for a decrease, the new patch for an increase), in integer hundredths of m².
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from onemap.domain import sources
from onemap.ledgers.flow import flow_error


class FlowKind(BaseModel):
    """A kind of destination/origin: a class flag, DLBM prefixes, or neither (the rest)."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    flag: str | None = None
    prefixes: list[str] = []


class FlowsConfig(BaseModel):
    """``farmland_flows.yaml``."""

    model_config = ConfigDict(extra="forbid")
    version: str = ""
    kinds: list[FlowKind]
    occupation_types: dict[str, str] = {}
    sha256: str = ""

    def classify(self, code: str, flags: dict[str, bool]) -> str:
        """The kind of a class code (first match; the last kind catches the rest)."""
        for k in self.kinds:
            if k.flag and flags.get(k.flag):
                return k.kind
            if k.prefixes and any(code.startswith(p) for p in k.prefixes):
                return k.kind
            if not k.flag and not k.prefixes:
                return k.kind
        return self.kinds[-1].kind


@lru_cache(maxsize=4)
def _load(key: tuple[str, int]) -> FlowsConfig:
    path = Path(key[0])
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
        return FlowsConfig.model_validate({**data, "sha256": hashlib.sha256(raw).hexdigest()})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, TypeError) as exc:
        raise flow_error(path, None, f"无法读取（{exc}）") from exc
    except ValidationError as exc:
        raise flow_error(path, None, str(exc.errors()[0]["loc"]) + "：" + exc.errors()[0]["msg"]) from exc


def load_flows(path: str | Path | None = None) -> FlowsConfig:
    """Load ``farmland_flows.yaml`` (shipped, override copy, or ``path``)."""
    p = sources.resolve("ledgers", "farmland_flows.yaml", path)
    return _load((str(p), p.stat().st_mtime_ns))


def _net(area_m2: float, kcxs: float) -> int:
    return int(round(round(area_m2 * (1.0 - min(max(kcxs, 0.0), 1.0)), 2) * 100))


def balance(pieces: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the change pieces per unit into the 耕地 balance.

    Parameters
    ----------
    pieces : list of dict
        One per change piece: ``unit``, ``area_m2``, ``before_cultivated``,
        ``after_cultivated``, ``before_paddy``, ``after_paddy``, ``kcxs_before``,
        ``kcxs_after``, ``before_kind``, ``after_kind``.

    Returns
    -------
    dict
        ``rows`` (``unit``, ``direction`` 减少/增加, ``kind``, ``area_m2`` net of 田坎,
        ``tiankan_m2``) and ``units`` (``unit``, ``decrease_m2``, ``increase_m2``,
        ``net_m2``, ``paddy_decrease_m2``, ``paddy_increase_m2``).
    """
    flows: dict[tuple[str, str, str], list[int]] = {}
    units: dict[str, dict[str, int]] = {}
    for p in pieces:
        unit = p["unit"]
        acc = units.setdefault(unit, {"decrease": 0, "increase": 0, "paddy_decrease": 0,
                                      "paddy_increase": 0})
        gross = int(round(p["area_m2"] * 100))
        if p["before_cultivated"] and not p["after_cultivated"]:
            net = _net(p["area_m2"], p["kcxs_before"])
            row = flows.setdefault((unit, "减少", p["after_kind"]), [0, 0])
            row[0] += net
            row[1] += gross - net
            acc["decrease"] += net
        elif p["after_cultivated"] and not p["before_cultivated"]:
            net = _net(p["area_m2"], p["kcxs_after"])
            row = flows.setdefault((unit, "增加", p["before_kind"]), [0, 0])
            row[0] += net
            row[1] += gross - net
            acc["increase"] += net
        if p["before_paddy"] and not p["after_paddy"]:
            acc["paddy_decrease"] += _net(p["area_m2"], p["kcxs_before"])
        elif p["after_paddy"] and not p["before_paddy"]:
            acc["paddy_increase"] += _net(p["area_m2"], p["kcxs_after"])
    rows = [{"unit": u, "direction": d, "kind": k, "area_m2": v[0] / 100, "tiankan_m2": v[1] / 100}
            for (u, d, k), v in sorted(flows.items(), key=lambda kv: (kv[0][0], kv[0][1] != "减少", kv[0][2]))]
    out_units = [{"unit": u, "decrease_m2": a["decrease"] / 100, "increase_m2": a["increase"] / 100,
                  "net_m2": (a["increase"] - a["decrease"]) / 100,
                  "paddy_decrease_m2": a["paddy_decrease"] / 100,
                  "paddy_increase_m2": a["paddy_increase"] / 100} for u, a in sorted(units.items())]
    return {"rows": rows, "units": out_units}
