"""In-use source kinds are registered by their modules: one new module in
cleaner/inuse/kinds/ is all a new kind takes, and validation, the JSON Schema and the
reader all see it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from config_support import errors_of, in_use

from cleaner.config.load import load_config_text
from cleaner.config.model import InUseSource, Target
from cleaner.config.schema import policy_schema
from cleaner.inuse import kinds
from cleaner.inuse.reader import InUseReader, label

# The whole of a new kind: this text, as a module of cleaner.inuse.kinds.
THROWAWAY = """\
from cleaner.config import fields as f
from cleaner.config.shape import Key, Shape
from cleaner.core.references import Usage, parse_reference
from cleaner.inuse.kinds import SourceKind, SourceRequest


def read(request: SourceRequest) -> list[Usage]:
    text = f"app:{request.options['tag']}-{request.options['copies']}"
    return [Usage(parse_reference(text), f"throwaway in {request.target.region}")]


KIND = SourceKind(
    name="throwaway",
    description="A kind that lives only in this test.",
    read=read,
    label=lambda options: f"throwaway {options['tag']}",
    options=Shape(
        {
            "tag": Key(f.string, "The tag it reports.", required=True),
            "copies": Key(f.at_least(1), "How many copies.", default=2),
        }
    ),
    position=5,
)
"""
ROOT = Path(__file__).resolve().parent.parent
TARGET = Target("us-east-1", "123456789012")


def add_kind_module(
    directory: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> Iterator[None]:
    (directory / f"{name}.py").write_text(text, encoding="utf-8")
    monkeypatch.setattr(kinds, "__path__", [*kinds.__path__, str(directory)])
    kinds.registered.cache_clear()
    yield
    kinds.registered.cache_clear()
    sys.modules.pop(f"{kinds.__name__}.{name}", None)


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from add_kind_module(tmp_path, monkeypatch, "throwaway", THROWAWAY)


def test_the_kinds_shipped_are_registered_in_their_order() -> None:
    assert [k.name for k in kinds.registered()] == [
        "ecs",
        "lambda",
        "command",
        "file",
        "kubernetes",
    ]
    assert [k.name for k in kinds.registered() if k.bare_name_allowed] == [
        "ecs",
        "lambda",
        "kubernetes",
    ]


@pytest.mark.usefixtures("throwaway")
def test_a_new_kind_module_is_accepted_by_validation() -> None:
    config = load_config_text(in_use("ecs", "{throwaway: {tag: v1}}"))
    assert config.policies[0].protect.in_use == (
        InUseSource("ecs"),
        InUseSource("throwaway", (("tag", "v1"),)),
    )
    # Its options are checked with its own declarations, and messages list it.
    assert errors_of(in_use("{throwaway: {copies: 0}}")) == [
        "policy.yaml:3:63: policies[0].protect.in_use.sources[0].throwaway.tag: required",
        "policy.yaml:3:72: policies[0].protect.in_use.sources[0].throwaway.copies:"
        " must be an integer >= 1 (got 0)",
    ]
    assert errors_of(in_use("throwaway")) == [
        "policy.yaml:3:51: policies[0].protect.in_use.sources[0]:"
        " throwaway needs options: {throwaway: {tag: ...}}"
    ]
    assert errors_of(in_use("k8s")) == [
        "policy.yaml:3:51: policies[0].protect.in_use.sources[0]:"
        " must be one of: throwaway, ecs, lambda, command, file, kubernetes (got 'k8s')"
    ]


def source_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """Each kind's schema in the inUseSource definition, by kind name."""
    return {
        name: prop
        for choice in schema["$defs"]["inUseSource"]["oneOf"]
        for name, prop in choice.get("properties", {}).items()
    }


@pytest.mark.usefixtures("throwaway")
def test_a_new_kind_module_is_in_the_generated_schema() -> None:
    schema = policy_schema()
    options = source_schemas(schema)["throwaway"]
    assert options["required"] == ["tag"]
    assert options["properties"]["copies"] == {
        "type": "integer",
        "minimum": 1,
        "description": "How many copies.",
        "default": 2,
    }
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(yaml.safe_load(in_use("{throwaway: {tag: v1}}")))
    assert not validator.is_valid(yaml.safe_load(in_use("{throwaway: {copies: 3}}")))
    assert not validator.is_valid(yaml.safe_load(in_use("throwaway")))


def test_without_the_module_the_kind_is_unknown_everywhere() -> None:
    assert "throwaway" not in source_schemas(policy_schema())
    assert errors_of(in_use("{throwaway: {tag: v1}}"))[0].endswith(
        "unknown in-use source (expected one of: ecs, lambda, command, file, kubernetes)"
    )


class NoClients:
    def for_target(self, service: str, target: Target, lane: str = "") -> Any:
        raise AssertionError(f"no AWS client expected, asked for {service}")


@pytest.mark.usefixtures("throwaway")
def test_a_new_kind_module_is_dispatched_by_the_reader_with_its_defaults() -> None:
    source = InUseSource("throwaway", (("tag", "v1"),))
    found = InUseReader(NoClients()).read(TARGET, [source])
    assert [(u.reference.text, u.workload) for u in found[source]] == [
        ("app:v1-2", "throwaway in us-east-1")
    ]
    assert label(source) == "throwaway v1"


def test_a_module_of_the_package_that_declares_no_kind_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in add_kind_module(tmp_path, monkeypatch, "not_a_kind", "VALUE = 1\n"):
        with pytest.raises(TypeError, match="not_a_kind declares no KIND"):
            kinds.registered()


@pytest.mark.slow  # a fresh Python in a subprocess: ~0.3 s
def test_validation_and_the_schema_import_no_aws_library_nor_the_run_layers() -> None:
    # The kinds are imported by name at run time, which static import checks cannot
    # follow: load them all, as validation does, and look at what came with them.
    code = """
import sys
from cleaner.config.load import load_config
from cleaner.config.schema import policy_schema
from cleaner.inuse.kinds import registered
registered(); policy_schema(); load_config("config/example.yaml")
print(sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore")
    or m.startswith(("cleaner.aws", "cleaner.run", "cleaner.serve"))))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
