"""`python -m runtime.store`: make the database ready (migrate it, close runs orphaned by a stopped process),
or say in one line why it cannot be used. `scripts/run.sh` runs it before building the editor."""

from __future__ import annotations

import sys

from . import DatabaseUnavailable, prepare_database


def main() -> int:
    try:
        prepare_database()
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
