"""Import of reference data and registry patients from a hand-edited TOML file.

The format is described in docs/import-format.md. The package is split by concern:

* `schema`: the file's records as written and as applied (plans), and `load_toml`;
* `errors`: `ImportIssue` (location and message) and `ImportErrors`, the refusal;
* `rendering`: locations, messages and the redaction of identity values in them;
* `validation` (with `hours` and `patients`): `validate`, every check that needs no database;
* `apply`: `import_data`, the upsert and its `ImportReport`.

Identity values (OMS numbers, document numbers, birth dates) are personal data: they never
appear in an error message, a log line or a repr. Errors point at them by location and by the
patient's name instead.
"""

from __future__ import annotations

from bot.services.importing.apply import ImportReport, Tally, import_data
from bot.services.importing.errors import ImportErrors, ImportIssue
from bot.services.importing.schema import (
    DoctorPlan,
    DocumentPlan,
    ImportPlan,
    OrganizationPlan,
    PatientPlan,
    ServicePlan,
    load_toml,
)
from bot.services.importing.validation import validate

__all__ = [
    "DoctorPlan",
    "DocumentPlan",
    "ImportErrors",
    "ImportIssue",
    "ImportPlan",
    "ImportReport",
    "OrganizationPlan",
    "PatientPlan",
    "ServicePlan",
    "Tally",
    "import_data",
    "load_toml",
    "validate",
]
