"""Reading and writing Pabulib (``.pb``) files, the open format for participatory budgeting data.

A file has three sections, each a ``;``-separated table with a header row: ``META`` (key, value),
``PROJECTS`` (``project_id``, ``cost``, ...) and ``VOTES`` (``voter_id``, ``vote``, ...), where
``vote`` lists the project ids a voter chose, separated by commas. See https://pabulib.org/format.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from services.budgets.domain.counting import Election, Money, Project

SECTIONS = ("META", "PROJECTS", "VOTES")
COUNTABLE_VOTE_TYPES = ("approval", "knapsack")


class PabulibError(ValueError):
    """A file that is not a Pabulib file this service can count; the message says where."""


@dataclass(frozen=True)
class PabulibFile:
    meta: dict[str, str]
    projects: list[dict[str, str]]
    votes: list[dict[str, str]]

    def election(self) -> Election:
        vote_type = self.meta.get("vote_type", "approval")
        if vote_type not in COUNTABLE_VOTE_TYPES:
            raise PabulibError(
                f"vote_type {vote_type!r} is not counted here; only approval and knapsack are"
            )
        if "budget" not in self.meta:
            raise PabulibError("META has no budget")
        budget = _money(self.meta["budget"], "META budget")
        projects = tuple(
            Project(row["project_id"], _money(row.get("cost", ""), f"project {row['project_id']}"))
            for row in self.projects
        )
        known = {p.id for p in projects}
        ballots: Counter[frozenset[str]] = Counter()
        for row in self.votes:
            chosen = frozenset(v.strip() for v in row.get("vote", "").split(",") if v.strip())
            unknown = chosen - known
            if unknown:
                raise PabulibError(
                    f"voter {row.get('voter_id')} voted for unknown project(s) {sorted(unknown)}"
                )
            ballots[chosen] += 1
        return Election(budget, projects, ballots)


def _money(text: str, where: str) -> Money:
    try:
        value = Fraction(Decimal(text.strip()))
    except (InvalidOperation, ValueError) as error:
        raise PabulibError(f"{where}: {text!r} is not an amount") from error
    if value < 0:
        raise PabulibError(f"{where}: an amount cannot be negative")
    return int(value) if value.denominator == 1 else value


def parse(text: str) -> PabulibFile:
    """Parse a Pabulib file's text; section and column names are case-insensitive."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"):
        if not row or all(not cell.strip() for cell in row):
            continue
        marker = row[0].strip().upper()
        if len(row) == 1 and marker in SECTIONS:
            current = sections.setdefault(marker, [])
            continue
        if current is None:
            raise PabulibError("the file does not start with a META, PROJECTS or VOTES section")
        current.append([cell.strip() for cell in row])
    missing = [name for name in SECTIONS if name not in sections]
    if missing:
        raise PabulibError(f"missing section(s): {', '.join(missing)}")
    meta = {row[0].lower(): row[1] if len(row) > 1 else "" for row in sections["META"][1:]}
    return PabulibFile(
        meta, _table(sections["PROJECTS"], "PROJECTS"), _table(sections["VOTES"], "VOTES")
    )


def _table(rows: list[list[str]], section: str) -> list[dict[str, str]]:
    if not rows:
        return []
    header = [name.lower() for name in rows[0]]
    key = "project_id" if section == "PROJECTS" else "voter_id"
    if key not in header:
        raise PabulibError(f"{section} has no {key} column")
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def write(
    meta: Mapping[str, object],
    projects: Sequence[Mapping[str, object]],
    ballots: Iterable[Sequence[str]],
    *,
    ballot_columns: Mapping[str, Sequence[object]] | None = None,
) -> str:
    """A Pabulib file. Voters get sequential ids: nothing in it points to a person."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in meta.items():
        writer.writerow([key, value])
    writer.writerow(["PROJECTS"])
    project_columns = list(projects[0]) if projects else ["project_id", "cost"]
    writer.writerow(project_columns)
    for project in projects:
        writer.writerow([project.get(column, "") for column in project_columns])
    writer.writerow(["VOTES"])
    extra = dict(ballot_columns or {})
    writer.writerow(["voter_id", *extra, "vote"])
    for number, ballot in enumerate(ballots, start=1):
        writer.writerow(
            [number, *(values[number - 1] for values in extra.values()), ",".join(ballot)]
        )
    return out.getvalue()
