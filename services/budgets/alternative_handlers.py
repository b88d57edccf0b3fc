"""Use cases of the alternative budget (alternatieve begroting). Each runs in one unit of work;
the caller commits."""

from __future__ import annotations

import uuid

from services.budgets import handlers, integration
from services.budgets.domain import commands
from services.budgets.domain.alternative import (
    Adoption,
    AlternativeBudget,
    Line,
    LineDecision,
    Monitoring,
    monitor,
)
from services.budgets.domain.earmarks import InvalidEarmark
from services.budgets.domain.exceptions import (
    AlternativeBudgetNotFound,
    BudgetNotFound,
    InvalidField,
)
from services.budgets.domain.model import Budget, BudgetKind
from services.budgets.persistence.unit_of_work import BudgetsUnitOfWork
from shared import clock


def _lines(lines: list[commands.AlternativeLine]) -> list[Line]:
    return [Line(**line.model_dump()) for line in lines]


async def _neighbourhood_budget(
    uow: BudgetsUnitOfWork, municipality: str, budget_id: str, *, lock: bool = False
) -> Budget:
    budget = await uow.budgets.get(municipality, budget_id, lock=lock)
    if budget is None:
        raise BudgetNotFound(f"no budget {budget_id} in {municipality}")
    if budget.kind is not BudgetKind.NEIGHBOURHOOD_BUDGET:
        raise InvalidField("budget_id", "an alternative budget divides a neighbourhood budget")
    return budget


async def _alternative(
    uow: BudgetsUnitOfWork, municipality: str, alternative_id: str
) -> AlternativeBudget:
    # Locked: two requests on the same alternative budget take turns.
    alternative = await uow.alternatives.get(municipality, alternative_id, lock=True)
    if alternative is None:
        raise AlternativeBudgetNotFound(f"no alternative budget {alternative_id} in {municipality}")
    return alternative


async def draft(
    command: commands.DraftAlternativeBudget,
    *,
    municipality: str,
    drafter_id: str,
    uow: BudgetsUnitOfWork,
) -> AlternativeBudget:
    budget = await _neighbourhood_budget(uow, municipality, command.budget_id)
    assert budget.neighbourhood is not None and budget.year is not None
    alternative = AlternativeBudget.draft(
        alternative_id=str(uuid.uuid4()),
        municipality=municipality,
        budget_id=budget.id,
        neighbourhood=budget.neighbourhood,
        year=budget.year,
        title=command.title,
        drafter_id=drafter_id,
        lines=_lines(command.lines),
        now=clock.now(),
    )
    await uow.alternatives.save(alternative)
    return alternative


async def edit(
    command: commands.EditAlternativeBudget,
    *,
    municipality: str,
    alternative_id: str,
    by: str,
    uow: BudgetsUnitOfWork,
) -> AlternativeBudget:
    alternative = await _alternative(uow, municipality, alternative_id)
    alternative.edit(
        by=by,
        title=command.title,
        lines=_lines(command.lines) if command.lines is not None else None,
    )
    await uow.alternatives.save(alternative)
    return alternative


async def co_sign(
    *, municipality: str, alternative_id: str, resident_id: str, uow: BudgetsUnitOfWork
) -> AlternativeBudget:
    alternative = await _alternative(uow, municipality, alternative_id)
    if alternative.co_sign(resident_id=resident_id, now=clock.now()):
        await uow.alternatives.save(alternative)
    return alternative


async def submit(
    *, municipality: str, alternative_id: str, by: str, uow: BudgetsUnitOfWork
) -> AlternativeBudget:
    """Put it to the municipal council: its lines must divide the budget's whole amount."""
    alternative = await _alternative(uow, municipality, alternative_id)
    balances = await uow.ledger.balances(alternative.budget_id)
    alternative.submit(by=by, budget_cents=balances.funded_cents, now=clock.now())
    await uow.alternatives.save(alternative)
    uow.publish(uow.wrap(integration.alternative_budget_submitted(alternative)))
    return alternative


async def withdraw(
    *,
    municipality: str,
    alternative_id: str,
    by: str,
    uow: BudgetsUnitOfWork,
    reason: str | None = None,
) -> AlternativeBudget:
    """The drafter withdraws it; its co-signers hear of it through the event."""
    alternative = await _alternative(uow, municipality, alternative_id)
    previous = alternative.withdraw(by=by)
    await uow.alternatives.save(alternative)
    withdrawn = integration.alternative_budget_withdrawn(
        alternative, previous_status=previous.value, reason=reason, at=clock.now()
    )
    uow.publish(uow.wrap(withdrawn))
    return alternative


async def record_decision(
    command: commands.RecordCouncilDecision,
    *,
    municipality: str,
    alternative_id: str,
    recorded_by: str,
    uow: BudgetsUnitOfWork,
) -> AlternativeBudget:
    """Record the council's decision; what it adopted becomes the budget's earmarks.

    All in one transaction: if an adopted amount cannot be earmarked (the money is already
    reserved), nothing is recorded and the answer says which line and why.
    """
    alternative = await _alternative(uow, municipality, alternative_id)
    # The budget's lock first, as every reservation takes it: earmarks and reservations
    # from the same budget never interleave.
    await _neighbourhood_budget(uow, municipality, alternative.budget_id, lock=True)
    decision = alternative.record_decision(
        adoption=command.adoption,
        lines=[LineDecision(**line.model_dump()) for line in command.lines],
        reasons=command.reasons,
        decided_on=command.decided_on,
        recorded_by=recorded_by,
        now=clock.now(),
    )
    await uow.alternatives.save(alternative)
    uow.publish(uow.wrap(integration.alternative_budget_decided(alternative)))
    if decision.adoption is Adoption.NOT_ADOPTED:
        return alternative
    current = await uow.ledger.earmarks(alternative.budget_id)

    def change(index: int) -> int:
        line = decision.lines[index]
        before = current.get(line.theme)
        return line.adopted_cents - (before.earmarked_cents if before else 0)

    # Lowered earmarks first: the money they give back may be what a raised one needs.
    for index in sorted(range(len(decision.lines)), key=change):
        line = decision.lines[index]
        try:
            await handlers.set_earmark(
                commands.SetEarmark(
                    amount_cents=line.adopted_cents,
                    note=f"adopted by the municipal council ({decision.decided_on}): "
                    f"alternative budget {alternative.id}",
                ),
                municipality=municipality,
                budget_id=alternative.budget_id,
                theme=line.theme,
                recorded_by=recorded_by,
                uow=uow,
                alternative_budget_id=alternative.id,
            )
        except InvalidEarmark as error:
            field = f"lines.{index}.adopted_cents" if command.lines else "adoption"
            raise InvalidField(field, f"line {line.theme}: {error}") from error
    return alternative


async def monitoring(uow: BudgetsUnitOfWork, municipality: str, alternative_id: str) -> Monitoring:
    alternative = await uow.alternatives.get(municipality, alternative_id)
    if alternative is None:
        raise AlternativeBudgetNotFound(f"no alternative budget {alternative_id} in {municipality}")
    return monitor(alternative, await uow.ledger.earmarks(alternative.budget_id))
