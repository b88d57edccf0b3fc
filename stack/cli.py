"""The ``inspraak`` console command: the operators' tools, plus what services contribute.

``shared.cli`` holds the tools every deployment needs (topics, dead letters) and may not know
the services; this dispatcher adds the budgets service's Pabulib counting as ``inspraak pb``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["pb"]:
        from services.budgets.pabulib_cli import main as count_pabulib

        return count_pabulib(arguments[1:])
    from shared.cli import main as operators

    return operators(arguments)


if __name__ == "__main__":
    sys.exit(main())
