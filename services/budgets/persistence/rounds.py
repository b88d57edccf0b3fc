"""Loads and stores budgeting rounds, their proposals and their ballots."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.budgets.domain.rounds import (
    Ballot,
    BallotKind,
    BudgetingRound,
    Phase,
    Proposal,
    RoundResults,
    Rule,
    Verdict,
)
from services.budgets.persistence.tables import BudgetingRoundRow, RoundBallotRow, RoundProposalRow

ROUNDS = BudgetingRoundRow.__table__  # type: ignore[attr-defined]
PROPOSALS = RoundProposalRow.__table__  # type: ignore[attr-defined]
BALLOTS = RoundBallotRow.__table__  # type: ignore[attr-defined]

# Proposals and verdicts change only before voting and phases never go back, so from the voting
# phase on a round's feasible proposals are fixed: each process reads them once per round, not
# once per ballot. Bounded, because a process lives through many rounds.
_FROZEN_FEASIBLE: OrderedDict[str, dict[str, int]] = OrderedDict()
_FROZEN_FEASIBLE_LIMIT = 256
_FROZEN_PHASES = frozenset({Phase.VOTING, Phase.COUNTING, Phase.DONE})


class RowLock(Enum):
    """How a use case locks the round's row until it commits (PostgreSQL; SQLite serialises)."""

    SHARE = "share"  # ballots: they leave the round as it is, so they commit side by side
    UPDATE = "update"  # changes to the round: they wait for the ballots under way, and v.v.


# The statements of the ballot path are built once: a statement object memoises its cache key,
# so each execution goes straight to the compiled form instead of building and hashing anew.
_ROUND = core_select(ROUNDS).where(
    ROUNDS.c.id == bindparam("round_id"), ROUNDS.c.municipality == bindparam("municipality")
)
_ROUND_LOCKED = {
    None: _ROUND,
    RowLock.SHARE: _ROUND.with_for_update(read=True),
    RowLock.UPDATE: _ROUND.with_for_update(),
}
_FEASIBLE = core_select(PROPOSALS.c.project_id, PROPOSALS.c.cost_cents).where(
    PROPOSALS.c.round_id == bindparam("round_id"), PROPOSALS.c.verdict == Verdict.FEASIBLE.value
)
_NEW_BALLOTS = {
    name: dialect.insert(BALLOTS)
    .on_conflict_do_nothing(index_elements=["round_id", "voter_id"])
    .returning(BALLOTS.c.voter_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
# SET takes the ballot's columns from each parameter set; WHERE names its own.
_OVERWRITE_BALLOT = update(BALLOTS).where(
    BALLOTS.c.round_id == bindparam("ballot_round"),
    BALLOTS.c.voter_id == bindparam("ballot_voter"),
)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _round(row: Any) -> BudgetingRound:
    """The round of a ``budgeting_round`` row, ORM or Core."""
    return BudgetingRound(
        id=row.id,
        municipality=row.municipality,
        neighbourhood=row.neighbourhood,
        title=row.title,
        budget_cents=row.budget_cents,
        ballot_kind=BallotKind(row.ballot_kind),
        rule=Rule(row.rule),
        max_choices=row.max_choices,
        schedule={Phase(k): datetime.fromisoformat(v) for k, v in json.loads(row.schedule).items()},
        phase=Phase(row.phase),
        results=RoundResults.model_validate_json(row.results) if row.results else None,
    )


class RoundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _connection(self) -> AsyncConnection:
        # The ballot path runs as Core statements on the session's connection and transaction:
        # no ORM identity map or change tracking for rows that are written once. Core skips the
        # session's autoflush, so flush here: they see this unit of work's own ORM changes.
        await self._session.flush()
        return await self._session.connection()

    async def get(
        self, municipality: str, round_id: str, *, lock: RowLock | None = None
    ) -> BudgetingRound | None:
        """A round; with ``lock``, its row stays locked so: a phase change (``UPDATE``) waits
        for the ballots under way (``SHARE``), and ballots wait for a phase change."""
        connection = await self._connection()
        found = await connection.execute(
            _ROUND_LOCKED[lock], {"round_id": round_id, "municipality": municipality}
        )
        row = found.first()
        return _round(row) if row else None

    async def of_municipality(self, municipality: str) -> list[BudgetingRound]:
        query = (
            select(BudgetingRoundRow)
            .where(BudgetingRoundRow.municipality == municipality)
            .order_by(col(BudgetingRoundRow.id))
        )
        return [_round(row) for row in (await self._session.exec(query)).all()]

    async def save(self, round_: BudgetingRound) -> None:
        row = await self._session.get(BudgetingRoundRow, round_.id)
        values: dict[str, Any] = {
            "municipality": round_.municipality,
            "neighbourhood": round_.neighbourhood,
            "title": round_.title,
            "budget_cents": round_.budget_cents,
            "ballot_kind": round_.ballot_kind.value,
            "rule": round_.rule.value,
            "max_choices": round_.max_choices,
            "schedule": json.dumps({k.value: v.isoformat() for k, v in round_.schedule.items()}),
            "phase": round_.phase.value,
            "results": round_.results.model_dump_json() if round_.results else None,
        }
        if row is None:
            row = BudgetingRoundRow(id=round_.id, **values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
        self._session.add(row)

    async def proposals(self, round_id: str) -> list[Proposal]:
        query = select(RoundProposalRow).where(RoundProposalRow.round_id == round_id)
        rows = (await self._session.exec(query)).all()
        proposals = [
            Proposal(
                project_id=row.project_id,
                title=row.title,
                cost_cents=row.cost_cents,
                verdict=Verdict(row.verdict),
                verdict_reasons=row.verdict_reasons,
            )
            for row in rows
        ]
        return sorted(proposals, key=lambda p: (len(p.project_id), p.project_id))

    async def save_proposal(self, round_id: str, proposal: Proposal) -> None:
        row = await self._session.get(RoundProposalRow, (round_id, proposal.project_id))
        if row is None:
            row = RoundProposalRow(
                round_id=round_id,
                project_id=proposal.project_id,
                title="",
                cost_cents=0,
                verdict="",
            )
        row.title = proposal.title
        row.cost_cents = proposal.cost_cents
        row.verdict = proposal.verdict.value
        row.verdict_reasons = proposal.verdict_reasons
        self._session.add(row)

    async def feasible_costs(self, round_: BudgetingRound) -> Mapping[str, int]:
        """The round's feasible proposals and their costs: what a ballot may choose."""
        frozen = _FROZEN_FEASIBLE.get(round_.id)
        if frozen is not None:
            _FROZEN_FEASIBLE.move_to_end(round_.id)
            return frozen
        connection = await self._connection()
        rows = (await connection.execute(_FEASIBLE, {"round_id": round_.id})).all()
        feasible = {project_id: int(cost) for project_id, cost in rows}
        if round_.phase in _FROZEN_PHASES:
            _FROZEN_FEASIBLE[round_.id] = feasible
            if len(_FROZEN_FEASIBLE) > _FROZEN_FEASIBLE_LIMIT:
                _FROZEN_FEASIBLE.popitem(last=False)
        return feasible

    async def put_ballots(self, round_id: str, ballots: Sequence[Ballot]) -> set[str]:
        """Store ballots, each replacing its voter's earlier one; return who had voted before.

        Insert-or-nothing first, then overwrite the rest: with ballots committing in parallel
        (the round's row is only share-locked), a voter's second ballot racing the first waits
        for it on the ballot's own key instead of failing on it, and then replaces it.
        """
        if not ballots:
            return set()
        connection = await self._connection()
        rows: list[dict[str, Any]] = [
            {
                "round_id": round_id,
                "voter_id": ballot.voter_id,
                "project_ids": ",".join(ballot.project_ids),
                "channel": ballot.channel.value,
                "cast_at": ballot.cast_at,
            }
            for ballot in ballots
        ]
        # One ballot runs as a plain execute, a batch as one multi-row statement per page.
        params = rows[0] if len(rows) == 1 else rows
        inserted = set(
            (await connection.execute(_NEW_BALLOTS[connection.dialect.name], params)).scalars()
        )
        replaced = {row["voter_id"] for row in rows} - inserted
        if replaced:
            await connection.execute(
                _OVERWRITE_BALLOT,
                [
                    {
                        "ballot_round": row["round_id"],
                        "ballot_voter": row["voter_id"],
                        "project_ids": row["project_ids"],
                        "channel": row["channel"],
                        "cast_at": row["cast_at"],
                    }
                    for row in rows
                    if row["voter_id"] in replaced
                ],
            )
        return replaced

    async def choices(self, round_id: str) -> list[list[str]]:
        """Every ballot's choices; who cast them is left behind."""
        query = select(RoundBallotRow.project_ids).where(RoundBallotRow.round_id == round_id)
        return [ids.split(",") for ids in (await self._session.exec(query)).all()]

    async def ballot_channels(self, round_id: str) -> list[tuple[list[str], str]]:
        query = select(RoundBallotRow.project_ids, RoundBallotRow.channel).where(
            RoundBallotRow.round_id == round_id
        )
        return [
            (ids.split(","), channel) for ids, channel in (await self._session.exec(query)).all()
        ]

    async def ballot_count(self, round_id: str) -> int:
        query = (
            select(func.count())
            .select_from(RoundBallotRow)
            .where(RoundBallotRow.round_id == round_id)
        )
        return int((await self._session.exec(query)).one())
