"""Reading the CIN census (XML): untrusted input, parsed with a hardened parser and checked
against the year's XSD, with identifiers pseudonymised as they are read.

The file is refused before parsing when it is over the size limit. A first pass with expat,
building nothing, refuses any DTD, entity declaration or external reference, the way
defusedxml does (so an entity expansion bomb or an external entity never expands); lxml
then parses it with entities, network and DTDs off and validates it against the DfE's
schema for the year. Schema problems are listed by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from xml.parsers import expat

from lxml import etree

from whatworks.core.errors import ImportProblem, WhatworksError
from whatworks.returns.pseudonymise import pseudonym
from whatworks.returns.ssda903 import Problem, read_limited

MAX_BYTES = 200 * 1024 * 1024
FIRST_YEAR, LAST_YEAR = 2017, 2026


@dataclass
class Census:
    """A CIN census as read: its children (pseudonymised) and the problems found."""

    year: int
    source: str
    la: str
    children: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@lru_cache(maxsize=16)
def schema(year: int) -> etree.XMLSchema:
    """The DfE's CIN census XSD for the collection year ending 31 March `year`."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WhatworksError(
            f"There is no CIN census schema for {year}; "
            f"years {FIRST_YEAR} to {LAST_YEAR} are known."
        )
    text = (
        files("whatworks.returns").joinpath("specs", "cin", f"CIN_schema_{year}.xsd").read_bytes()
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(text, parser=parser))


class _Declaration(Exception):
    """The document declares a DTD, an entity or an external reference."""


def _forbid(*_: Any) -> int:
    raise _Declaration


def refuse_declarations(content: bytes) -> None:
    """Check the document is well-formed and declares no DTD, entity or external
    reference, without building it; raises _Declaration, expat.ExpatError, or
    LookupError/ValueError for an encoding expat cannot read."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    parser.Parse(content, True)


def _text(element: Any, tag: str) -> str:
    return (element.findtext(tag) or "").strip()


def _fields(element: Any) -> dict[str, str]:
    """The text of each child element by its tag (the first of a tag, as findtext gives),
    in one pass over the children instead of one search per field."""
    fields: dict[str, str] = {}
    for item in element:
        tag = item.tag
        if isinstance(tag, str) and tag not in fields:
            fields[tag] = (item.text or "").strip()
    return fields


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def read_census(path: Path, year: int, key: bytes, max_bytes: int = MAX_BYTES) -> Census:
    """Read one CIN census file. Raises ImportProblem when it is not safe or not XML;
    otherwise returns the children with every schema problem listed."""
    label = path.name
    content = read_limited(path, max_bytes)
    try:
        refuse_declarations(content)
    except _Declaration:
        raise ImportProblem(
            label,
            ["the file declares a DTD, entities or external references, which are not allowed"],
        ) from None
    except expat.ExpatError as error:
        raise ImportProblem(label, [f"the file is not well-formed XML: {error}"]) from None
    except (LookupError, ValueError) as error:  # an encoding expat cannot read
        raise ImportProblem(
            label, [f"the file's encoding cannot be read ({error}); save it as UTF-8 XML"]
        ) from None
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        document = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as error:
        raise ImportProblem(label, [f"the file is not well-formed XML: {error}"]) from None
    validator = schema(year)
    problems = []
    if not validator.validate(document):
        for entry in validator.error_log:
            problems.append(
                Problem(
                    "cin",
                    entry.line,
                    "",
                    entry.path.rsplit("/", 1)[-1],
                    entry.message,
                    code="schema",
                )
            )
    la = _text(document, "Header/Source/LEA")
    census = Census(year, label, la, problems=problems)
    seen_children: set[str] = set()
    for child in document.iterfind("Children/Child"):
        ids = child.find("ChildIdentifiers")
        if ids is None:
            continue
        identifiers = _fields(ids)
        child_id, upn = identifiers.get("LAchildID", ""), identifiers.get("UPN", "")
        if child_id in seen_children:
            census.problems.append(
                Problem(
                    "cin",
                    child.sourceline,
                    child_id,
                    "LAchildID",
                    "this child appears twice in the census; give each child one Child "
                    "element, with a CINdetails element for each referral",
                )
            )
        if child_id:
            seen_children.add(child_id)
        referrals = []
        for details in child.iterfind("CINdetails"):
            referral = _fields(details)
            assessments = [_fields(a) for a in details.iterfind("Assessments")]
            plans = [_fields(p) for p in details.iterfind("ChildProtectionPlans")]
            referrals.append(
                {
                    "referral_date": _date(referral.get("CINreferralDate", "")),
                    "closure_date": _date(referral.get("CINclosureDate", "")),
                    "referral_nfa": referral.get("ReferralNFA", ""),
                    "primary_need": referral.get("PrimaryNeedCode", ""),
                    "assessments": [
                        {
                            "start": _date(a.get("AssessmentActualStartDate", "")),
                            "authorised": _date(a.get("AssessmentAuthorisationDate", "")),
                        }
                        for a in assessments
                    ],
                    "cp_plans": [
                        {
                            "start": _date(p.get("CPPstartDate", "")),
                            "end": _date(p.get("CPPendDate", "")),
                            "previous_plans": p.get("NumberOfPreviousCPP", ""),
                        }
                        for p in plans
                    ],
                }
            )
        census.children.append(
            {
                "child": pseudonym(key, "child", child_id) if child_id else None,
                "upn": pseudonym(key, "upn", upn) if upn else None,
                "birth_date": _date(identifiers.get("PersonBirthDate", "")),
                "sex": identifiers.get("Sex", ""),
                "referrals": referrals,
            }
        )
    return census
