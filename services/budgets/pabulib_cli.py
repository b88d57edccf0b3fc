"""``inspraak pb count --rule greedy|mes FILE.pb``: recount a Pabulib file with our counting.

Prints ``{"rule": ..., "selected": [project ids], "cost": ...}`` as JSON. Exit status 2 for
a file that cannot be read or counted, with the reason on standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from services.budgets.domain.counting import Money, count
from services.budgets.domain.pabulib import PabulibError, parse


def _number(value: Money) -> int | float:
    if isinstance(value, Fraction):
        return float(value) if value.denominator != 1 else int(value)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspraak pb", description="Participatory budgeting files (Pabulib .pb)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    counting = commands.add_parser("count", help="count a .pb file and print the outcome as JSON")
    counting.add_argument("--rule", choices=["greedy", "mes"], required=True)
    counting.add_argument(
        "--increment",
        type=Fraction,
        default=Fraction(1),
        help="MES: budget added per voter per round of the add-one completion (default 1)",
    )
    counting.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        election = parse(args.file.read_text(encoding="utf-8")).election()
    except (OSError, UnicodeDecodeError, PabulibError) as error:
        print(f"inspraak pb: {args.file}: {error}", file=sys.stderr)
        return 2
    outcome = count(election, args.rule, increment=args.increment)
    print(
        json.dumps({"rule": outcome.rule, "selected": outcome.ids, "cost": _number(outcome.cost)})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
