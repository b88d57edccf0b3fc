"""After `make test`: how many tests ran against the real broker and PostgreSQL (both > 0)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

COUNTS = Path(".run/test-infrastructure.json")


def main() -> int:
    counts = json.loads(COUNTS.read_text())
    print(
        f"tests against the real Kafka broker: {counts['kafka']}; "
        f"against PostgreSQL: {counts['postgres']}"
    )
    if counts["kafka"] == 0 or counts["postgres"] == 0:
        print("make test: the suite must run tests against both Kafka and PostgreSQL")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
