"""Smart Loan Recovery engine: ingest, segment, score and assign recovery strategies."""

from core.errors import RecoveryError

__all__ = ["RecoveryError"]
