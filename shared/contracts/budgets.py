"""Events the budgets service publishes on ``budgets.events.v1``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared.contracts.base import Cents, EventData, NeighbourhoodCode


class BudgetEvent(EventData):
    producer: ClassVar[str] = "budgets"
    aggregate_field: ClassVar[str] = "initiative_id"

    initiative_id: str = Field(description="The initiative the money is for; the Kafka key.")


class BudgetAllocated(BudgetEvent):
    """The approved amount is reserved from a budget."""

    name: ClassVar[str] = "budget-allocated"

    budget_id: str = Field(description="The budget the amount is reserved from.")
    neighbourhood: NeighbourhoodCode | None = Field(
        default=None, description="The budget's neighbourhood, null for the initiatives fund."
    )
    amount_cents: Cents
    available_after_cents: Cents


class AllocationRejected(BudgetEvent):
    """Nothing was reserved: the budget is short (by how much) or missing."""

    name: ClassVar[str] = "allocation-rejected"

    budget_id: str | None = Field(description="The budget that was tried; null if none exists.")
    requested_cents: Cents
    available_cents: Cents
    shortfall_cents: Cents
    fund_could_cover: bool = Field(
        description="Whether the initiatives fund holds enough to cover the whole amount."
    )
    reason: str = Field(description="Why nothing was reserved.")


class FundsDisbursed(BudgetEvent):
    """Money was paid out to the initiative."""

    name: ClassVar[str] = "funds-disbursed"

    budget_id: str = Field(description="The budget paid from.")
    amount_cents: Cents


class SpendingReported(BudgetEvent):
    """Actual spending was booked against the initiative's reservation."""

    name: ClassVar[str] = "spending-reported"

    budget_id: str = Field(description="The budget the spending is booked on.")
    amount_cents: Cents
    description: str = Field(description="What the money was spent on.")


EVENTS: tuple[type[EventData], ...] = (
    BudgetAllocated,
    AllocationRejected,
    FundsDisbursed,
    SpendingReported,
)
