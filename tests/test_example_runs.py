"""The run YAMLs under examples/runs/ are valid run configs: known keys, a registered model, tasks
that exist, a judge spec that parses (nothing is downloaded or run)."""

from __future__ import annotations

from pathlib import Path

import pytest

RUNS = sorted((Path(__file__).resolve().parents[1] / "examples" / "runs").glob("*.yaml"))


def test_there_are_example_runs() -> None:
    assert {p.stem for p in RUNS} >= {"general_stem_reasoning", "librispeech_long_aero", "agentic_replay"}


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.stem)
def test_example_run_config_is_valid(path: Path) -> None:
    from lmms_eval.api.registry import MODELS
    from lmms_eval.api.task_config import validate_config
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks import apply_prompt_variant, load_selection
    from lmms_eval.tasks.yaml_loader import read_yaml_file

    config = validate_config(RunConfig, read_yaml_file(str(path)), str(path))
    assert MODELS.get(config.model) is not None
    selection = load_selection(config.tasks, config.include_path)
    assert selection.tasks
    variant = config.prompt_variant or getattr(MODELS.get(config.model), "default_prompt_variant", None)
    apply_prompt_variant(selection, variant)
