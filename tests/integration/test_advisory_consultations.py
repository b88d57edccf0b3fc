"""A policy consultation: councils advise, residents give input, the municipality answers
every point and the participation paragraph tells all of it, in Dutch and English."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from shared.auth import Role
from shared.contracts import advisory as contract
from shared.testing.helpers import token
from tests.integration.advisory_support import Advisory, member


@pytest.fixture
async def advisory(tmp_path: Path) -> AsyncIterator[Advisory]:
    service = await Advisory(tmp_path).start()
    yield service
    await service.close()


async def test_the_paragraph_contains_every_point_and_its_answer(advisory: Advisory) -> None:
    wijkraad = await advisory.council(
        {"anna": "chair"}, name="Wijkraad Centrum", kind="neighbourhood_council", advice_days=5
    )
    youth = await advisory.council(
        {"dewi": "chair"}, name="Jongerenraad", kind="youth_council", advice_days=5
    )
    consultation = await advisory.call(
        "POST",
        "/consultations",
        json={
            "title": "Nota Groen en Spelen 2027",
            "summary": "Meer groen & speelplekken.",
            "link": "https://gemeente.example/nota-groen",
            "themes": ["groen", "jeugd"],
            "areas": ["WK036200"],
            "council_ids": [wijkraad["id"], youth["id"]],
            "open_to_residents": True,
        },
    )
    [opened] = await advisory.events("consultation-opened")
    assert isinstance(opened, contract.ConsultationOpened)
    assert opened.council_ids == [wijkraad["id"], youth["id"]] and opened.open_to_residents
    policy_requests = await advisory.events("advice-requested")
    assert {e.subject_kind for e in policy_requests} == {"policy"}  # type: ignore[attr-defined]

    resident = token(Role.RESIDENT, subject="resident-7")
    for text in ("Graag een hondenlosloopgebied.", "Schaduw bij de speeltuin <b>nodig</b>."):
        await advisory.call(
            "POST",
            f"/consultations/{consultation['id']}/input",
            headers=resident,
            json={"text": text},
        )
    round_id = opened.advice_round_id
    advice_round = await advisory.call("GET", f"/advice-rounds/{round_id}")
    request = {r["council_id"]: r for r in advice_round["requests"]}
    await advisory.call(
        "POST",
        f"/advice-rounds/{round_id}/requests/{request[wijkraad['id']]['id']}/advice",
        headers=member("anna"),
        json={
            "position": "conditional",
            "motivation": "Steun, mits bomen blijven staan.",
            "conditions": ["Geen kap van oude bomen"],
            "minority_positions": [{"position": "negative", "motivation": "Te weinig parkeren."}],
        },
    )
    # The youth council lets its deadline pass; the round is closed after escalation.
    deadline = datetime.fromisoformat(request[youth["id"]]["deadline"])
    await advisory.fire_at(deadline + timedelta(seconds=1))
    assert len(await advisory.events("advice-overdue")) == 1
    [closed] = await advisory.events("consultation-closed")
    assert closed.points == 5  # type: ignore[attr-defined]
    late = await advisory.call(
        "POST",
        f"/consultations/{consultation['id']}/input",
        headers=resident,
        expect=409,
        json={"text": "Te laat."},
    )
    assert "closed" in late["detail"]
    early = await advisory.call("POST", f"/consultations/{consultation['id']}/answers", expect=409)
    assert "still open" in early["detail"]
    await advisory.call(
        "POST", f"/advice-rounds/{round_id}/close", json={"reason": "Jongerenraad gaf geen advies."}
    )

    found = await advisory.call("GET", f"/consultations/{consultation['id']}")
    answers = {}
    for n, point in enumerate(found["points"]):
        outcome = ["adopted", "partly_adopted", "not_adopted"][n % 3]
        answers[point["text"]] = f"Antwoord {n}: zo gedaan."
        if n == 0:
            unanswered = await advisory.call(
                "POST", f"/consultations/{consultation['id']}/answers", expect=409
            )
            assert "without an answer" in unanswered["detail"]
        await advisory.call(
            "POST",
            f"/consultations/{consultation['id']}/points/{point['id']}/answer",
            json={"outcome": outcome, "reason": answers[point["text"]]},
        )
    await advisory.call("POST", f"/consultations/{consultation['id']}/answers")
    [answered] = await advisory.events("consultation-answered")
    assert isinstance(answered, contract.ConsultationAnswered)
    assert (answered.adopted, answered.partly_adopted, answered.not_adopted) == (2, 2, 1)

    paragraph = f"/consultations/{consultation['id']}/participation-paragraph"
    dutch = await advisory.call("GET", paragraph, headers=token(Role.RESIDENT))
    assert dutch.headers["content-type"].startswith("text/markdown")
    text = dutch.text
    assert "## Participatieparagraaf: Nota Groen en Spelen 2027" in text
    assert "Wijkraad Centrum (wijkraad)" in text and "Jongerenraad (jongerenraad)" in text
    assert "1 inwoner gaf inbreng" in text and "resident-7" not in text
    assert "gaf geen advies; de adviesronde is na escalatie gesloten" in text
    for said, answer in answers.items():
        assert said in text and answer in text
    assert "**deels overgenomen**" in text and "minderheidsstandpunt" in text

    english = await advisory.call("GET", paragraph, params={"language": "en", "format": "html"})
    assert english.headers["content-type"].startswith("text/html")
    html = english.text
    assert "<h2>Participation paragraph: Nota Groen en Spelen 2027</h2>" in html
    assert "&lt;b&gt;nodig&lt;/b&gt;" in html, "residents' text is escaped"
    assert "partly adopted" in html and "did not advise" in html
    for answer in answers.values():
        assert answer in html


async def test_residents_only_give_input_when_invited(advisory: Advisory) -> None:
    council = await advisory.council(
        {"anna": "chair"}, name="Wijkraad", kind="neighbourhood_council"
    )
    consultation = await advisory.call(
        "POST",
        "/consultations",
        json={
            "title": "Parkeerbeleid",
            "summary": "Betaald parkeren.",
            "link": "https://x.example/p",
            "council_ids": [council["id"]],
        },
    )
    refused = await advisory.call(
        "POST",
        f"/consultations/{consultation['id']}/input",
        headers=token(Role.RESIDENT),
        expect=409,
        json={"text": "Nee"},
    )
    assert "councils only" in refused["detail"]
    nobody = await advisory.client.post(
        "/v1/municipalities/GM0362/consultations",
        json={"title": "Leeg", "summary": "x", "link": "https://x.example"},
        headers=token(Role.CIVIL_SERVANT),
    )
    assert nobody.status_code == 422


async def test_the_answer_names_each_resident_who_gave_input_once(advisory: Advisory) -> None:
    """consultation-answered carries the residents' pseudonymous ids (the token's subject), so
    they can be told what was done with their input; councils are not among them."""
    council = await advisory.council(
        {"anna": "chair"}, name="Wijkraad", kind="neighbourhood_council", advice_days=5
    )
    consultation = await advisory.call(
        "POST",
        "/consultations",
        json={
            "title": "Speelruimteplan",
            "summary": "Waar kinderen spelen.",
            "link": "https://gemeente.example/speelruimteplan",
            "council_ids": [council["id"]],
            "open_to_residents": True,
        },
    )
    for resident, text in (
        ("resident-8", "Een trapveldje."),
        ("resident-7", "Meer schaduw."),
        ("resident-8", "En een bankje."),
    ):
        await advisory.call(
            "POST",
            f"/consultations/{consultation['id']}/input",
            headers=token(Role.RESIDENT, subject=resident),
            json={"text": text},
        )
    [opened] = await advisory.events("consultation-opened")
    assert isinstance(opened, contract.ConsultationOpened)
    advice_round = await advisory.call("GET", f"/advice-rounds/{opened.advice_round_id}")
    [request] = advice_round["requests"]
    await advisory.call(
        "POST",
        f"/advice-rounds/{opened.advice_round_id}/requests/{request['id']}/advice",
        headers=member("anna"),
        json={"position": "positive", "motivation": "Goed plan."},
    )
    await advisory.call("POST", f"/consultations/{consultation['id']}/close")
    found = await advisory.call("GET", f"/consultations/{consultation['id']}")
    for point in found["points"]:
        await advisory.call(
            "POST",
            f"/consultations/{consultation['id']}/points/{point['id']}/answer",
            json={"outcome": "adopted", "reason": "Zo gedaan."},
        )
    await advisory.call("POST", f"/consultations/{consultation['id']}/answers")

    [answered] = await advisory.events("consultation-answered")
    assert isinstance(answered, contract.ConsultationAnswered)
    assert answered.adopted == 4  # three inputs and the council's advice
    assert answered.contributor_ids == ["resident-8", "resident-7"]
