"""Checking the registry's patients: names, OMS policy, birth date and identity documents.

Identity values are checked with the same rules as in the chat (identity.py), so a patient the
file imports can identify themselves with what the file says. Their messages are redacted: they
are written for the patient who typed the value, and may quote it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.services.identity import (
    IdentityFormatError,
    normalize_document,
    normalize_oms,
    parse_birth_date,
)
from bot.services.identity_texts import render
from bot.services.importing.rendering import IssueCollector, Loc, redact
from bot.services.importing.schema import DocumentIn, DocumentPlan, PatientIn, PatientPlan, list_at

__all__ = ["check_patients"]

# (kind, normalized number)
_Document = tuple[str, str]


def check_patients(
    issues: IssueCollector, *, raw_patients: list[Any], today: date
) -> list[PatientPlan]:
    """The plans of the patients without mistakes; every mistake is added to `issues`."""
    plans: list[PatientPlan] = []
    # Normalized OMS number -> index of the first patient with it.
    oms_seen: dict[str, int] = {}
    for index, raw_patient in enumerate(raw_patients):
        plan = _check_patient(
            issues, raw_patient=raw_patient, index=index, oms_seen=oms_seen, today=today
        )
        if plan is not None:
            plans.append(plan)
    return plans


def _check_patient(
    issues: IssueCollector, *, raw_patient: Any, index: int, oms_seen: dict[str, int], today: date
) -> PatientPlan | None:
    loc: Loc = ("patients", index)
    patient = issues.parse(PatientIn, raw_patient, loc)
    fields: Mapping[str, Any] = raw_patient if isinstance(raw_patient, Mapping) else {}
    oms = _check_oms(issues, typed=fields.get("oms"), index=index, oms_seen=oms_seen)
    birth_date = _check_birth_date(issues, typed=fields.get("birth_date"), loc=loc, today=today)
    documents = _check_documents(issues, raw_documents=list_at(fields, "documents"), loc=loc)
    if patient is not None and patient.district is not None and patient.organization is None:
        issues.add(
            (*loc, "district"),
            "участок указан без организации: добавьте organization — код поликлиники, "
            "к которой прикреплён пациент",
        )
        return None
    if patient is None or oms is None or birth_date is None or documents is None:
        return None
    where = issues.where(loc)
    return PatientPlan(
        location=where,
        last_name=patient.last_name,
        first_name=patient.first_name,
        middle_name=patient.middle_name,
        birth_date=birth_date,
        oms=oms,
        documents=tuple(
            DocumentPlan(kind=kind, number=number, location=f"{where}.documents[{n + 1}]")
            for n, (kind, number) in enumerate(documents)
        ),
        organization=patient.organization,
        district=patient.district,
    )


def _check_oms(
    issues: IssueCollector, *, typed: Any, index: int, oms_seen: dict[str, int]
) -> str | None:
    """The normalized number, unless it is malformed or an earlier patient of the file has it."""
    if not isinstance(typed, str):
        return None  # reported by the structure check
    loc: Loc = ("patients", index, "oms")
    try:
        oms = normalize_oms(typed)
    except IdentityFormatError as exc:
        issues.add(loc, redact(render(exc, locale="ru"), raw=typed))
        return None
    if oms in oms_seen:
        first = issues.where(("patients", oms_seen[oms]))
        issues.add(loc, f"тот же номер полиса ОМС, что у {first}")
        return None
    oms_seen[oms] = index
    return oms


def _check_birth_date(issues: IssueCollector, *, typed: Any, loc: Loc, today: date) -> date | None:
    if isinstance(typed, date) and not isinstance(typed, datetime):
        # A TOML date goes through the same checks: not in the future, a plausible age.
        typed = f"{typed:%d.%m.%Y}"
    if not isinstance(typed, str):
        return None  # reported by the structure check
    try:
        return parse_birth_date(typed, today=today)
    except IdentityFormatError as exc:
        issues.add((*loc, "birth_date"), redact(render(exc, locale="ru"), raw=typed))
        return None


def _check_documents(
    issues: IssueCollector, *, raw_documents: list[Any], loc: Loc
) -> list[_Document] | None:
    """The patient's documents, or None if any is wrong or repeated."""
    # Numbers are stored without their series, so two patients may share one (a 6-digit
    # passport number repeats across series): only a patient's own list must not repeat.
    documents: list[_Document] = []
    ok = True
    for position, raw_document in enumerate(raw_documents):
        doc_loc: Loc = (*loc, "documents", position)
        document = _check_document(issues, raw_document=raw_document, loc=doc_loc)
        if document is None:
            ok = False
        elif document in documents:
            ok = False
            issues.add(doc_loc, "этот документ указан у пациента дважды")
        else:
            documents.append(document)
    return documents if ok else None


def _check_document(issues: IssueCollector, *, raw_document: Any, loc: Loc) -> _Document | None:
    document = issues.parse(DocumentIn, raw_document, loc)
    if document is None:
        return None
    try:
        number = normalize_document(document.kind, document.number)
    except IdentityFormatError as exc:
        issues.add((*loc, "number"), redact(render(exc, locale="ru"), raw=document.number))
        return None
    return document.kind, number
