"""Persistence through SQLModel: SQLite by default, Postgres via `DATABASE_URL`.

Imported lazily: running a pipeline that stores nothing never loads SQLAlchemy.
"""

from .db import get_engine, reset_engines, session
from .health import DatabaseUnavailable, database_health
from .reviews import (
                      AlreadyDecided,
                      ReviewDecision,
                      ReviewNotFound,
                      create_review,
                      decide_review,
                      get_review,
                      list_reviews,
)
from .schema import prepare_database
from .tables import ReviewTask

__all__ = ["prepare_database", "database_health", "DatabaseUnavailable", "get_engine", "reset_engines", "session", "ReviewTask", "create_review", "get_review", "list_reviews",
           "decide_review", "ReviewDecision", "AlreadyDecided", "ReviewNotFound"]
