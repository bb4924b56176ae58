"""Alembic migrations of Patchwire's database, run by `runtime.store.prepare_database()` (no alembic.ini).

A new migration: `alembic -c runtime/store/migrations/alembic.ini revision -m "what changes"` writes a file into
versions/; fill in `upgrade()` by hand (keep every migration additive and safe to run on SQLite and PostgreSQL),
and add the model change to tables.py in the same commit: tests compare the migrated schema with the models.
"""
