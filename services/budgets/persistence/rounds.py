"""Loads and stores budgeting rounds, their proposals and their ballots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _round(row: BudgetingRoundRow) -> BudgetingRound:
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

    async def get(
        self, municipality: str, round_id: str, *, lock: bool = False
    ) -> BudgetingRound | None:
        """A round; with ``lock``, its row stays locked: ballots and phase changes queue up."""
        query = select(BudgetingRoundRow).where(
            BudgetingRoundRow.id == round_id, BudgetingRoundRow.municipality == municipality
        )
        if lock:
            query = query.with_for_update()
        row = (await self._session.exec(query)).first()
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

    async def put_ballots(self, round_id: str, ballots: Sequence[Ballot]) -> set[str]:
        """Store ballots, each replacing its voter's earlier one; return who had voted before."""
        voters = [ballot.voter_id for ballot in ballots]
        existing = {
            row.voter_id: row
            for row in (
                await self._session.exec(
                    select(RoundBallotRow).where(
                        RoundBallotRow.round_id == round_id,
                        col(RoundBallotRow.voter_id).in_(voters),
                    )
                )
            ).all()
        }
        replaced = set(existing)
        for ballot in ballots:
            row = existing.get(ballot.voter_id) or RoundBallotRow(
                round_id=round_id,
                voter_id=ballot.voter_id,
                project_ids="",
                channel="",
                cast_at=ballot.cast_at,
            )
            row.project_ids = ",".join(ballot.project_ids)
            row.channel = ballot.channel.value
            row.cast_at = ballot.cast_at
            self._session.add(row)
            existing[ballot.voter_id] = row
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
