"""Monitoring and enforcement (卫片执法): change detection, judging, cases, accountability.

- :mod:`onemap.monitor.changes` — change patches between two versions (BSM first).
- :mod:`onemap.monitor.monitoring` — external 监测图斑 (JCBH/QSX/HSX/TBLX) as change patches.
- :mod:`onemap.monitor.judge` — overlay with approvals, rules as data → 合法/疑似违法/其他.
- :mod:`onemap.monitor.cases` — the case lifecycle as a state machine (data), audit-logged.
- :mod:`onemap.monitor.accountability` — 违法占用耕地 ratio per county and year.
- :mod:`onemap.monitor.service` — one function per CLI verb / API endpoint, JSON-ready.
"""

from onemap.monitor.changes import ChangeResult, detect_changes

__all__ = ["ChangeResult", "detect_changes"]
