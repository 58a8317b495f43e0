"""The ingest tests' feed fixtures, for attacks made through file drops and exchange tables."""

from tests.ingest.conftest import penalty_feed, run

__all__ = ["penalty_feed", "run"]
