"""Change sets and judged sets record the versions they were made from and stay synthetic."""

from __future__ import annotations

from onemap.monitor import service
from onemap.monitor.service import CHANGESET_DATASET, JUDGED_DATASET
from onemap.store.base import lineage


def _refs(info):
    return [(i.dataset, i.version, i.role) for i in info.meta.inputs]


def test_change_set_and_judged_set_carry_their_inputs(chain_ws):
    store = chain_ws
    service.run_changes(store, "DLTB", "2023", "2024", actor="pytest", rows=False)
    changeset = store.version(CHANGESET_DATASET, "2023-2024")
    # before/after, then the control layers the workspace has (CJDCQ is not in it)
    assert _refs(changeset) == [("DLTB", "2023", "before"), ("DLTB", "2024", "after"),
                                ("YJJBNTTB", "2023", "control"), ("STBHHX", "2023", "control"),
                                ("CZKFBJ", "2023", "control"), ("XZQ", "2023", "control")]
    dltb_2023 = store.version("DLTB", "2023")
    assert changeset.meta.inputs[0].checksum == dltb_2023.meta.source_checksum
    assert changeset.meta.inputs[0].version_id == dltb_2023.id
    assert changeset.meta.synthetic is True  # the chain workspace is synthetic

    j = service.judge_changes(store, "2023-2024", as_of="2025-03-01", actor="pytest", rows=False)
    judged = store.version(JUDGED_DATASET, j["saved"]["version"])
    # the change set, then every approval layer present (ZJD is missing)
    assert _refs(judged) == [(CHANGESET_DATASET, "2023-2024", "changeset"),
                             ("NZYPC", "2024", "approval"), ("GD", "2024", "approval"),
                             ("SSNYD", "2024", "approval"), ("LSYD", "2024", "approval")]
    assert judged.meta.synthetic is True
    chain = lineage(store.datasets(), judged.id)
    assert [(c["dataset"], c["depth"]) for c in chain][:3] == [
        (CHANGESET_DATASET, 1), ("DLTB", 2), ("DLTB", 2)]
    assert len(chain) == 5 + 6
