"""Follow the money: what each budget, neighbourhood and initiative was given and did with it.

Everything here is derived from the ledger and the cost plans, and is fit to publish: ids,
codes and amounts only. Notes and who booked an entry stay out, as they may name people.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.budgets.domain.earmarks import EarmarkPosition
from services.budgets.domain.model import Allocation, Balances, Budget, BudgetKind
from services.budgets.domain.payments import InitiativePosition


class Figures(BaseModel):
    """The five numbers residents follow, in euro cents."""

    model_config = ConfigDict(frozen=True)

    allocated_cents: int = Field(
        description="Budget: what it was funded with. Initiative: what it was granted, net of "
        "releases."
    )
    reserved_cents: int = Field(description="Reserved for initiatives and not paid yet.")
    disbursed_cents: int = Field(description="Paid out.")
    spent_cents: int = Field(description="Paid out and accounted for with actual costs.")
    remaining_cents: int = Field(
        description="Budget: free to reserve, for any theme or from a theme's earmark. "
        "Initiative: still to be paid out."
    )

    @classmethod
    def of_budget(cls, balances: Balances, earmarked_cents: int = 0) -> Figures:
        """``earmarked_cents``: what the budget's earmarks still hold for their themes."""
        return cls(
            allocated_cents=balances.funded_cents,
            reserved_cents=balances.committed_cents,
            disbursed_cents=balances.disbursed_cents,
            spent_cents=balances.spent_cents,
            remaining_cents=balances.available_cents + earmarked_cents,
        )

    @classmethod
    def of_initiative(cls, position: InitiativePosition) -> Figures:
        return cls(
            allocated_cents=position.reserved_cents - position.released_cents,
            reserved_cents=position.committed_cents,
            disbursed_cents=position.disbursed_cents,
            spent_cents=position.spent_cents,
            remaining_cents=position.committed_cents,
        )

    @classmethod
    def total(cls, figures: Iterable[Figures]) -> Figures:
        sums: dict[str, int] = defaultdict(int)
        for one in figures:
            for name, value in one.model_dump().items():
                sums[name] += value
        return cls(**{name: sums[name] for name in cls.model_fields})


class CostLine(BaseModel):
    """Planned against actual costs of one line of an initiative's cost plan."""

    model_config = ConfigDict(frozen=True)

    cost_line: str
    planned_cents: int | None = Field(description="In the cost plan; null if not planned.")
    actual_cents: int = Field(description="Reported actual costs.")
    difference_cents: int | None = Field(description="Actual minus planned; null if unplanned.")


class InitiativeMoney(BaseModel):
    """One initiative's money: granted, paid, accounted for, per cost line."""

    initiative_id: str
    budget_id: str
    neighbourhood: str | None
    figures: Figures
    cost_lines: list[CostLine]


class BudgetMoney(BaseModel):
    """One budget's money and the initiatives it pays for."""

    budget_id: str
    kind: BudgetKind
    neighbourhood: str | None
    year: int | None
    figures: Figures
    earmarks: list[EarmarkPosition] = Field(
        default_factory=list,
        description="The budget's earmarks per theme: set aside, reserved, paid, spent, left.",
    )
    initiatives: list[InitiativeMoney]


class NeighbourhoodMoney(BaseModel):
    """A neighbourhood's own budgets taken together, and what the fund gave it besides."""

    neighbourhood: str
    figures: Figures = Field(description="The neighbourhood budgets, all years shown together.")
    from_fund: Figures = Field(description="What initiatives here got from the initiatives fund.")


class MoneyReport(BaseModel):
    """The public follow-the-money report of a municipality."""

    municipality: str
    generated_at: datetime
    totals: Figures
    budgets: list[BudgetMoney]
    neighbourhoods: list[NeighbourhoodMoney]


def cost_lines(plan: Sequence[tuple[str, int]], actual: Mapping[str, int]) -> list[CostLine]:
    """The plan's lines in their order, then any line costs were reported on without a plan."""
    planned = dict(plan)
    names = [name for name, _ in plan] + sorted(set(actual) - set(planned))
    lines = []
    for name in names:
        spent = actual.get(name, 0)
        target = planned.get(name)
        lines.append(
            CostLine(
                cost_line=name,
                planned_cents=target,
                actual_cents=spent,
                difference_cents=None if target is None else spent - target,
            )
        )
    return lines


def initiative_money(
    allocation: Allocation,
    position: InitiativePosition,
    plan: Sequence[tuple[str, int]],
    actual: Mapping[str, int],
) -> InitiativeMoney:
    assert allocation.budget_id is not None
    return InitiativeMoney(
        initiative_id=allocation.initiative_id,
        budget_id=allocation.budget_id,
        neighbourhood=allocation.neighbourhood,
        figures=Figures.of_initiative(position),
        cost_lines=cost_lines(plan, actual),
    )


def money_report(
    municipality: str,
    budgets: Sequence[Budget],
    balances: Mapping[str, Balances],
    initiatives: Sequence[InitiativeMoney],
    now: datetime,
    earmarks: Mapping[str, Mapping[str, EarmarkPosition]] | None = None,
) -> MoneyReport:
    """``earmarks``: each budget's earmarks by theme (derived from the ledger), if any."""
    earmarks = earmarks or {}
    by_budget: dict[str, list[InitiativeMoney]] = defaultdict(list)
    for initiative in initiatives:
        by_budget[initiative.budget_id].append(initiative)
    budget_money = [
        BudgetMoney(
            budget_id=budget.id,
            kind=budget.kind,
            neighbourhood=budget.neighbourhood,
            year=budget.year,
            figures=Figures.of_budget(
                balances[budget.id],
                sum(e.remaining_cents for e in earmarks.get(budget.id, {}).values()),
            ),
            earmarks=sorted(earmarks.get(budget.id, {}).values(), key=lambda e: e.theme),
            initiatives=by_budget[budget.id],
        )
        for budget in budgets
    ]
    fund_ids = {b.id for b in budgets if b.kind is BudgetKind.INITIATIVES_FUND}
    neighbourhoods = sorted(
        {b.neighbourhood for b in budgets if b.neighbourhood}
        | {i.neighbourhood for i in initiatives if i.neighbourhood and i.budget_id in fund_ids}
    )
    return MoneyReport(
        municipality=municipality,
        generated_at=now,
        totals=Figures.total(b.figures for b in budget_money),
        budgets=budget_money,
        neighbourhoods=[
            NeighbourhoodMoney(
                neighbourhood=code,
                figures=Figures.total(b.figures for b in budget_money if b.neighbourhood == code),
                from_fund=Figures.total(
                    i.figures
                    for i in initiatives
                    if i.neighbourhood == code and i.budget_id in fund_ids
                ),
            )
            for code in neighbourhoods
        ],
    )


CSV_COLUMNS = (
    "level",
    "budget_id",
    "budget_kind",
    "neighbourhood",
    "year",
    "initiative_id",
    "cost_line",
    "allocated_cents",
    "reserved_cents",
    "disbursed_cents",
    "spent_cents",
    "remaining_cents",
    "planned_cents",
    "actual_cents",
    "theme",
)


def as_csv(report: MoneyReport) -> str:
    """The report as one flat table: a row per budget, per initiative and per cost line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for budget in report.budgets:
        where = {
            "budget_id": budget.budget_id,
            "budget_kind": budget.kind.value,
            "year": budget.year if budget.year is not None else "",
        }
        writer.writerow(
            {
                "level": "budget",
                **where,
                "neighbourhood": budget.neighbourhood or "",
                **budget.figures.model_dump(),
            }
        )
        for earmark in budget.earmarks:
            writer.writerow(
                {
                    "level": "earmark",
                    **where,
                    "neighbourhood": budget.neighbourhood or "",
                    "theme": earmark.theme,
                    "allocated_cents": earmark.earmarked_cents,
                    "reserved_cents": earmark.committed_cents,
                    "disbursed_cents": earmark.disbursed_cents,
                    "spent_cents": earmark.spent_cents,
                    "remaining_cents": earmark.remaining_cents,
                }
            )
        for initiative in budget.initiatives:
            here = {
                **where,
                "neighbourhood": initiative.neighbourhood or "",
                "initiative_id": initiative.initiative_id,
            }
            writer.writerow({"level": "initiative", **here, **initiative.figures.model_dump()})
            for line in initiative.cost_lines:
                writer.writerow(
                    {
                        "level": "cost_line",
                        **here,
                        "cost_line": line.cost_line,
                        "planned_cents": "" if line.planned_cents is None else line.planned_cents,
                        "actual_cents": line.actual_cents,
                    }
                )
    return out.getvalue()
