"""Building blocks shared by all event data models: identifiers, money, the base class."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MUNICIPALITY_CODE = r"^GM\d{4}$"
NEIGHBOURHOOD_CODE = r"^BU\d{8}$"
DISTRICT_CODE = r"^WK\d{6}$"
TYPE_PREFIX = "nl.inspraak"
SCHEMA_BASE_URI = "https://schemas.inspraak.nl/events"


def _must_be_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must carry a UTC offset")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_must_be_aware)]
Cents = Annotated[int, Field(ge=0, description="An amount of money in euro cents.")]
PSEUDONYMOUS_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
PSEUDONYMOUS_ID_MAX_LENGTH = 64
PseudonymousId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=PSEUDONYMOUS_ID_MAX_LENGTH,
        pattern=PSEUDONYMOUS_ID_PATTERN,
        description="A pseudonymous person id; never a name, e-mail address or phone number.",
    ),
]
MunicipalityCode = Annotated[
    str, Field(pattern=MUNICIPALITY_CODE, description="CBS code of the municipality, e.g. GM0362.")
]
NeighbourhoodCode = Annotated[
    str, Field(pattern=NEIGHBOURHOOD_CODE, description="CBS neighbourhood (buurt) code.")
]


class EventData(BaseModel):
    """The data of one event. Readers are tolerant: unknown fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    producer: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate_field: ClassVar[str]

    municipality: MunicipalityCode

    @classmethod
    def event_type(cls) -> str:
        suffix = f".v{cls.version}" if cls.version > 1 else ""
        return f"{TYPE_PREFIX}.{cls.producer}.{cls.name}{suffix}"

    @classmethod
    def schema_uri(cls) -> str:
        return f"{SCHEMA_BASE_URI}/{cls.producer}/{cls.name}.v{cls.version}.schema.json"

    @classmethod
    def topic(cls) -> str:
        return f"{cls.producer}.events.v{cls.version}"

    def aggregate_id(self) -> str:
        return str(getattr(self, self.aggregate_field))
