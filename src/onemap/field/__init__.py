"""The field app's engines (外业核查举证): task kinds and evidence rules as data, the watermark.

- :mod:`onemap.field.config` reads ``data/field_tasks.yaml`` (rules and task kinds).
- :mod:`onemap.field.evidence_rules` flags weak evidence (位置不符, 时间不符, 精度不足, 举证不足).
- :mod:`onemap.field.watermark` burns the capture facts into a copy of a photo.
"""
