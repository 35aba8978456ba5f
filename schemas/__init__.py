"""The data contract: one versioned Arrow schema per dataset, validation, and dataset cards.

Only depends on pyarrow, so other teams can import it to read our Parquet datasets.
"""

from schemas.cards import SourceCredit, render_card
from schemas.datasets import ALL_DATASETS, DERIVED_DATASETS, RAW_DATASETS
from schemas.spec import Column, DatasetSchema, schema_identity
from schemas.validate import (
    SchemaError,
    SchemaVersionError,
    Violation,
    check_version,
    require_valid,
    validate_parquet,
    validate_table,
)


def get_schema(name: str) -> DatasetSchema:
    """The contract of dataset `name`; raises KeyError listing the known names."""
    try:
        return ALL_DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(ALL_DATASETS))}") from None


__all__ = [
    "ALL_DATASETS",
    "DERIVED_DATASETS",
    "RAW_DATASETS",
    "Column",
    "DatasetSchema",
    "SchemaError",
    "SchemaVersionError",
    "SourceCredit",
    "Violation",
    "check_version",
    "get_schema",
    "render_card",
    "require_valid",
    "schema_identity",
    "validate_parquet",
    "validate_table",
]
