"""Where a partnership's data lives, and how its records are named.

Two places, kept apart (docs/sharing.md):

- **The partnership's own area** (`<data folder>/partnerships/p<id>/`, folders 0700, files
  0600): each dataset's matching fields in clear (`matching/d<id>.parquet`), which only the
  linkage step and the audited record-level view read, and which are deleted at the end of
  retention; and each linkage run's pairs and clusters (`runs/r<id>/`), which name records
  only by pseudonym.
- **The analytics store** (`<data folder>/analytics/sharing/p<id>/d<id>.parquet`): each
  record pseudonymised, with only what the whole-system view counts.

A record's pseudonym is the keyed HMAC-SHA256 of the partnership, the organisation and the
agency's own record id, with the deployment's key (`returns/pseudonymise.py`): the same
record uploaded again keeps its pseudonym, so review decisions hold across uploads.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

#: Columns of a dataset's matching file (the partnership's area), in order.
MATCHING_COLUMNS = (
    "record",  # pseudonym
    "record_id",  # the agency's own id, so a practitioner can find the case
    "first_name",
    "surname",
    "dob",  # yyyy-mm-dd
    "sex",
    "postcode",
    "address",
    "upn",
    "nhs_number",
)
#: Columns of a dataset's pseudonymised records (the analytics store), in order.
RECORD_COLUMNS = (
    "record",  # pseudonym
    "birth_month",  # yyyy-mm, for ages
    "sex",
    "district",  # the outward part of the postcode, e.g. "N12"
    "needs",  # the agency's need codes, ";"-separated
)


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def partnership_area(data_dir: Path, partnership_id: int) -> Path:
    """The partnership's own folder (created, 0700)."""
    return _private_dir(data_dir / "partnerships" / f"p{partnership_id}")


def matching_path(data_dir: Path, partnership_id: int, dataset_id: int) -> Path:
    """A dataset's matching fields in clear, in the partnership's own area."""
    return _private_dir(partnership_area(data_dir, partnership_id) / "matching") / (
        f"d{dataset_id}.parquet"
    )


def run_dir(data_dir: Path, partnership_id: int, run_id: int) -> Path:
    """A linkage run's pairs (`pairs.parquet`) and clusters (`clusters.parquet`)."""
    return _private_dir(partnership_area(data_dir, partnership_id) / "runs" / f"r{run_id}")


def records_path(analytics_dir: Path, partnership_id: int, dataset_id: int) -> Path:
    """A dataset's pseudonymised records, in the analytics store."""
    folder = analytics_dir / "sharing" / f"p{partnership_id}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"d{dataset_id}.parquet"


def record_pseudonym(key: bytes, partnership_id: int, organisation_id: int, record_id: str) -> str:
    """The pseudonym of one agency record: 20 hex characters of a keyed HMAC-SHA256."""
    message = f"sharing record\x1f{partnership_id}\x1f{organisation_id}\x1f{record_id.strip()}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:20]
