"""The one settings object: every variable read by one field, documented in the README, listed by
``suraksha settings`` with its source and secrets masked."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suraksha import settings as settings_module
from suraksha.settings import (
    Settings,
    describe,
    get_settings,
    markdown_table,
    readme_table,
    reset_settings,
)

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "suraksha"


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    reset_settings()
    yield
    reset_settings()


def test_no_variable_is_read_by_two_fields():
    counts = Counter(info.env for info in describe())
    assert [env for env, n in counts.items() if n > 1] == []


def test_every_field_has_a_one_line_description():
    missing = [f"{i.section}.{i.field}" for i in describe() if not i.description.strip() or "\n" in i.description]
    assert missing == []


def test_readme_table_is_the_generated_one():
    """Every field's variable is documented, and nothing documented is read by no field: regenerate
    with `python -m suraksha.settings --write-readme README.md`."""
    assert readme_table((ROOT / "README.md").read_text(encoding="utf-8")) == markdown_table()


def test_every_variable_in_the_readme_is_read_by_a_field():
    documented = {
        line.split("`")[1] for line in readme_table((ROOT / "README.md").read_text()).splitlines() if line.startswith("| `")
    }
    assert documented == {info.env for info in describe()}
    assert "SURAKSHA_MAX_VIDEO_SECONDS" not in documented  # was read by nothing; removed


def test_no_settings_class_outside_the_settings_module():
    """A BaseSettings elsewhere would read variables the model (and the README, and the checks
    above) does not know about."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "settings.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(b, ast.Name) and b.id == "BaseSettings")
                or (isinstance(b, ast.Attribute) and b.attr == "BaseSettings")
                for b in node.bases
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.name}")
    assert offenders == []


def test_report_max_attempts_reaches_the_report_section_only(monkeypatch):
    monkeypatch.setenv("SURAKSHA_REPORT_MAX_ATTEMPTS", "3")
    s = get_settings()
    assert s.report.max_attempts == 3
    assert not hasattr(s.enforcement, "report_max_attempts")


def test_area_accessors_are_views_of_the_one_object(monkeypatch):
    from suraksha.api.settings import get_api_settings
    from suraksha.auth.settings import get_auth_settings
    from suraksha.cases.settings import get_review_settings
    from suraksha.config import get_settings as get_core
    from suraksha.enforcement.settings import get_enforcement_settings
    from suraksha.legal.settings import get_legal_settings
    from suraksha.networks.settings import get_network_settings
    from suraksha.outbox.settings import get_outbox_settings
    from suraksha.pipeline.settings import get_pipeline_settings, reset_pipeline_settings
    from suraksha.reporting.settings import get_report_settings, get_reporter_settings

    s = get_settings()
    assert get_core() is s.core
    assert get_api_settings() is s.api and get_auth_settings() is s.auth
    assert get_review_settings() is s.review and get_network_settings() is s.networks
    assert get_enforcement_settings() is s.enforcement and get_legal_settings() is s.legal
    assert get_outbox_settings() is s.outbox and get_pipeline_settings() is s.pipeline
    assert get_report_settings() is s.report and get_reporter_settings() is s.reporter

    monkeypatch.setenv("SURAKSHA_WORKER_BATCH", "3")
    assert get_pipeline_settings().worker_batch == 8  # read once, kept
    reset_pipeline_settings()
    assert get_settings().pipeline.worker_batch == 3


def test_a_bad_section_fails_only_where_it_is_used(monkeypatch):
    monkeypatch.setenv("SURAKSHA_NCMEC_ENVIRONMENT", "production")
    monkeypatch.setenv("SURAKSHA_NCMEC_BASE_URL", "http://plain.example/ispws")
    s = get_settings()
    assert s.core.mode == "demo"
    with pytest.raises(ValueError, match="https"):
        _ = s.ncmec


def test_sections_keep_their_environment_prefixes():
    prefixes = {name: cls.model_config.get("env_prefix") for name, cls in Settings.sections().items()}
    assert prefixes["review"] == "SURAKSHA_REVIEW_" and prefixes["ncmec"] == "SURAKSHA_NCMEC_"
    assert prefixes["pipeline"] == "SURAKSHA_" and prefixes["outbox"] == "SURAKSHA_OUTBOX_"


def _cli(args, monkeypatch, tmp_path, env):
    from suraksha.cli import app

    monkeypatch.chdir(tmp_path)  # no ./var here: the command must not need (or create) a database
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings()
    return CliRunner().invoke(app, args)


def test_cli_prints_value_and_source_with_secrets_masked(monkeypatch, tmp_path):
    result = _cli(
        ["settings"],
        monkeypatch,
        tmp_path,
        {
            "SURAKSHA_WORKER_BATCH": "3",
            "SURAKSHA_NCMEC_PASSWORD": "hunter2-secret",
            "SURAKSHA_DATABASE_URL": "postgresql+psycopg://bob:pw-in-url@db/x",
            "SURAKSHA_CONNECTOR_SECRET": "connector-secret-value",
        },
    )
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["SURAKSHA_WORKER_BATCH"].split()[1:] == ["3", "(environment)"]
    assert lines["SURAKSHA_WORKER_LINGER_MS"].split()[1:] == ["5.0", "(default)"]
    assert "hunter2" not in result.output and "connector-secret-value" not in result.output
    assert "pw-in-url" not in result.output and "bob:********@db" in result.output
    assert len(lines) == len(describe())
    assert not (tmp_path / "var").exists()


def test_cli_json(monkeypatch, tmp_path):
    result = _cli(
        ["settings", "--json"],
        monkeypatch,
        tmp_path,
        {"SURAKSHA_REVIEW_SLA_MINUTES": "90", "SURAKSHA_EVIDENCE_KEY": "a2V5LWtleS1rZXk="},
    )
    assert result.exit_code == 0, result.output
    rows = {r["env"]: r for r in json.loads(result.output)}
    assert rows["SURAKSHA_REVIEW_SLA_MINUTES"] == {
        "section": "review",
        "name": "sla_minutes",
        "env": "SURAKSHA_REVIEW_SLA_MINUTES",
        "value": "90",
        "source": "environment",
        "description": rows["SURAKSHA_REVIEW_SLA_MINUTES"]["description"],
    }
    assert rows["SURAKSHA_EVIDENCE_KEY"]["value"] == "********"
    assert rows["SURAKSHA_HMA_REQUIRE_KEY"]["value"] == "true"  # a flag named "key" is no secret
    assert rows["SURAKSHA_MODE"]["source"] == "default"


def test_markdown_entry_point(capsys):
    assert settings_module.main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown_table()


def test_cli_lists_an_invalid_section_with_its_reason_never_its_value(monkeypatch, tmp_path):
    result = _cli(
        ["settings", "--json"],
        monkeypatch,
        tmp_path,
        {"SURAKSHA_NCMEC_TIMEOUT_S": "not-a-number-hunter2", "SURAKSHA_WORKER_BATCH": "4"},
    )
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    rows = {r["env"]: r for r in json.loads(result.output)}
    assert "timeout_s" in rows["SURAKSHA_NCMEC_TIMEOUT_S"]["error"]
    assert rows["SURAKSHA_NCMEC_TIMEOUT_S"]["value"].startswith("<invalid: ")
    assert rows["SURAKSHA_WORKER_BATCH"]["value"] == "4" and "error" not in rows["SURAKSHA_WORKER_BATCH"]
