"""The workflow file (spec section 2): defaults, matching, and one clear error per mistake."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.config import load_config
from metrics.errors import ConfigError
from metrics.workflow import DISCARDED, workflow_from_table
from tests.flowbuild import SIMPLE


def stages(*names):
    return [{"name": n} for n in names]


def test_defaults_start_second_stage_done_last_utc():
    wf = workflow_from_table({"stages": stages("Todo", "Doing", "Check", "Shipped")})
    assert (wf.start, wf.done, wf.timezone, wf.discarded) == (1, 3, "UTC", ())
    assert wf.stages[0].statuses == ("Todo",) and wf.stages[0].wip_limit is None
    assert not wf.stages[0].waiting


def test_frozen_and_lookup():
    wf = workflow_from_table(SIMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        wf.start = 0
    lookup = wf.status_positions()
    assert lookup["in progress"] == 1 and lookup["dropped"] == DISCARDED
    assert lookup["review"] == 2  # a stage's own name maps to it


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wip_limt": 3}, "unknown key 'wip_limt'; did you mean 'wip_limit'?"),
        ({"start": "Coding"}, "workflow.start = 'Coding': not a stage name; expected one of"),
        ({"done": "Shipped"}, "workflow.done = 'Shipped': not a stage name"),
        ({"start": "Done", "done": "Dev"}, "comes after workflow.done"),
        ({"discarded": ["Done"]}, "status 'Done' is also a status of stage 'Done'"),
        ({"wip_limit": 0}, "workflow.wip_limit = 0: expected an integer >= 1"),
        ({"wip_limit": -2}, "workflow.wip_limit = -2: expected an integer >= 1"),
        ({"timezone": "Mars/Olympus"}, "workflow.timezone = 'Mars/Olympus': not an IANA"),
        ({"discarded": "Dropped"}, "workflow.discarded = 'Dropped': expected a list"),
    ],
)
def test_workflow_errors_name_key_value_and_what_is_valid(change, message):
    with pytest.raises(ConfigError) as err:
        workflow_from_table({**SIMPLE, **change})
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("stage_list", "message"),
    [
        (
            [{"name": "A", "statuses": ["X"]}, {"name": "B", "statuses": ["x "]}],
            "stages[1].statuses: status 'x ' is already in stage 'A'",
        ),
        ([{"name": "A"}, {"name": "a"}], "stages[1].name = 'a': stage names must be unique"),
        ([{"name": "A"}, {"name": "B", "wip_limit": 0}], "stages[1].wip_limit = 0"),
        ([{"name": "A"}, {"name": "B", "waitng": True}], "did you mean 'waiting'?"),
        ([{"name": "A"}], "expected at least two"),
        ([{"name": "A"}, {"name": "B", "waiting": "yes"}], "expected true or false"),
    ],
)
def test_stage_errors(stage_list, message):
    with pytest.raises(ConfigError) as err:
        workflow_from_table({"stages": stage_list})
    assert message in str(err.value)


def test_load_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="workflow file not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[workflow\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text('[workflo]\ntimezone = "UTC"\n')
    with pytest.raises(ConfigError, match="did you mean 'workflow'"):
        load_config(typo)


def test_unknown_source_kind_and_duplicate_names(tmp_path):
    path = tmp_path / "flowdeck.toml"
    base = '[workflow]\n[[workflow.stages]]\nname = "A"\n[[workflow.stages]]\nname = "B"\n'
    path.write_text(base + '[[sources]]\nname = "x"\nkind = "gitlab"\n')
    with pytest.raises(ConfigError, match="unknown source kind"):
        load_config(path)


def test_delivery_table_sets_rework_types_and_refuses_mistakes(tmp_path):
    path = tmp_path / "flowdeck.toml"
    base = '[workflow]\n[[workflow.stages]]\nname = "A"\n[[workflow.stages]]\nname = "B"\n'
    path.write_text(base)
    assert load_config(path).workflow.rework_types == ("Bug", "Incident", "Hotfix")
    path.write_text(base + '[delivery]\nrework_types = ["Defect", " Incident "]\n')
    assert load_config(path).workflow.rework_types == ("Defect", "Incident")
    path.write_text(base + '[delivery]\nrework_type = ["Defect"]\n')
    with pytest.raises(ConfigError, match="did you mean 'rework_types'"):
        load_config(path)
    path.write_text(base + '[delivery]\nrework_types = "Bug"\n')
    with pytest.raises(ConfigError, match=r"delivery\.rework_types = 'Bug': expected a list"):
        load_config(path)
