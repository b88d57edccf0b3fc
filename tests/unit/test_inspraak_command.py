"""`inspraak pb count` reaches the budgets service's Pabulib counting; the rest, the tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stack.cli import main

ELECTION = """META
key;value
num_projects;3
num_votes;4
budget;100
vote_type;approval
PROJECTS
project_id;cost
1;60
2;50
3;40
VOTES
voter_id;vote
1;1,2
2;1
3;2,3
4;3
"""


@pytest.mark.parametrize(
    ("rule", "selected", "cost"), [("greedy", ["3", "2"], 90), ("mes", ["3", "1"], 100)]
)
def test_pb_count_prints_the_selected_projects_as_json(
    rule: str, selected: list[str], cost: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    election = tmp_path / "election.pb"
    election.write_text(ELECTION)
    assert main(["pb", "count", "--rule", rule, str(election)]) == 0
    assert json.loads(capsys.readouterr().out) == {"rule": rule, "selected": selected, "cost": cost}


def test_other_commands_go_to_the_operators_tools(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "topics" in capsys.readouterr().out
