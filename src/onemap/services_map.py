"""Use cases of the web map: the field dictionary of a layer (Chinese names and code lists)."""

from __future__ import annotations

from typing import Any

from onemap.domain.layers import UnknownNameError, codelist, codelist_title, layer_schema


def field_dictionary(dataset: str) -> dict[str, Any]:
    """Chinese titles and code tables of a layer's standard fields.

    Parameters
    ----------
    dataset : str
        Layer name, e.g. ``"DLTB"``.

    Returns
    -------
    dict
        ``{"dataset", "title", "fields": {NAME: {"title", "codelist", "codelist_title",
        "codes": {code: name}}}}``, from ``domain/data/layers.yaml`` and
        ``codelists.yaml``; a layer without a schema gives ``"fields": {}`` (its
        fields are shown by their own names).
    """
    try:
        schema = layer_schema(dataset)
    except UnknownNameError:
        return {"dataset": dataset, "title": dataset, "fields": {}}
    fields: dict[str, Any] = {}
    for spec in schema.fields:
        item: dict[str, Any] = {"title": spec.title}
        if spec.codelist:
            item["codelist"] = spec.codelist
            item["codelist_title"] = codelist_title(spec.codelist)
            item["codes"] = codelist(spec.codelist)
        fields[spec.name] = item
    return {"dataset": schema.name, "title": schema.title, "fields": fields}
