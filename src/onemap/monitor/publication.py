"""执法公示: the public record of a decided case, with personal data redacted by rule.

A decided case (its ``decide`` event: decision number, date, violation, penalty) is published
with the place to the village and nothing else of the case. Redaction follows
``public.yaml`` → ``enforcement``: the party's name (``party``) becomes ``{surname}某`` wherever
it appears unless it is an organisation (name ending with one of the listed suffixes), and
every pattern rule (身份证号, 手机号) is masked in every published text.
"""

from __future__ import annotations

import re
from typing import Any

from onemap.monitor.public_policy import EnforcementRules


def mask_name(name: str, rules: EnforcementRules) -> str:
    """The published form of a party's name.

    Examples
    --------
    >>> from onemap.monitor.public_policy import public_policy
    >>> r = public_policy().enforcement
    >>> mask_name("张三丰", r), mask_name("吴忠市某某建材有限公司", r)
    ('张某', '吴忠市某某建材有限公司')
    """
    name = name.strip()
    if not name or name.endswith(tuple(rules.organisation_suffixes)):
        return name
    return rules.party_mask.format(surname=name[0])


def redact_text(text: str, rules: EnforcementRules, names: list[str] | tuple[str, ...] = ()) -> str:
    """``text`` with the given personal names masked and every pattern rule applied.

    Examples
    --------
    >>> from onemap.monitor.public_policy import public_policy
    >>> r = public_policy().enforcement
    >>> redact_text("当事人李四（身份证号 640302199001011234）", r, ["李四"])
    '当事人李某（身份证号 ******************）'
    """
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        masked = mask_name(name, rules)
        if masked != name:
            text = text.replace(name, masked)
    for rule in rules.redact:
        text = re.sub(rule.pattern, rule.replace, text)
    return text


def published_decision(case: dict[str, Any], decision: dict[str, Any], *, village_name: str,
                       county_name: str, rules: EnforcementRules) -> dict[str, Any]:
    """The public record of one decided case.

    Parameters
    ----------
    case : dict
        The case (``case_no`` is not published; ``county``, ``village`` codes are).
    decision : dict
        The fields of its ``decide`` event (``decision_no``, ``date``, ``violation``,
        ``penalty``, optional ``party``).
    village_name, county_name : str
        Names of the place, to the village.
    rules : EnforcementRules
        What is published and how it is redacted.

    Returns
    -------
    dict
        ``decision_no``, ``date``, ``place`` (县 + 村), ``violation``, ``penalty``, ``party``
        (masked), every text redacted.
    """
    party = str(decision.get(rules.party_field) or "")
    names = [party] if party else []
    out: dict[str, Any] = {}
    for name in rules.published_fields:
        value = decision.get(name)
        out[name] = redact_text(str(value), rules, names) if value is not None else None
    out["place"] = "".join(x for x in (county_name, village_name) if x) or "（位置未登记）"
    out["party"] = redact_text(mask_name(party, rules), rules) if party else ""
    return out
