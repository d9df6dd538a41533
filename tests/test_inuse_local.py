"""The `command` and `file` in-use sources, and how the reader fails closed."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.config.model import InUseSource, Target
from cleaner.inuse.kinds.command import read_command
from cleaner.inuse.kinds.file import read_file
from cleaner.inuse.reader import InUseReader, InUseUnavailable, label
from cleaner.inuse.reading import SourceError, references_in

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "a" * 64
TARGET = Target("us-east-1", "123456789012")


def texts(usages: list[Any]) -> list[str]:
    return [u.reference.text for u in usages]


def test_a_file_lists_references_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in-use.txt"
    path.write_text(
        f"# images our on-prem cluster runs\n\n{ECR}/api:v1\n  {ECR}/web@{DIGEST}  # pinned\n"
    )
    usages = read_file(str(path))
    assert texts(usages) == [f"{ECR}/api:v1", f"{ECR}/web@{DIGEST}"]
    assert [u.workload for u in usages] == [f"file {path} (line 3)", f"file {path} (line 4)"]


def test_several_references_on_one_line_are_read_like_kubectl_prints_them() -> None:
    usages = references_in(f"{ECR}/a:1 {ECR}/b:2\t{ECR}/c:3\n", "command kubectl")
    assert texts(usages) == [f"{ECR}/a:1", f"{ECR}/b:2", f"{ECR}/c:3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"app:1\nNot/An:Image\n", "line 2: 'Not/An:Image': 'Not/An' is not a valid repository"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_completely_is_a_failure(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "in-use.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=message):
        read_file(str(path))


def test_a_missing_file_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read: No such file or directory"):
        read_file(str(tmp_path / "absent.txt"))


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_a_command_prints_references_and_sees_its_target(tmp_path: Path) -> None:
    code = "import os; print(os.environ['ECR_CLEANER_REGION'], 'app:' + os.environ['X'])"
    usages = read_command(
        python(code), timeout=None, environment={"ECR_CLEANER_REGION": "eu-west-1", "X": "7"}
    )
    # eu-west-1 is read as a repository name: the command decides what it prints.
    assert texts(usages) == ["eu-west-1", "app:7"]
    assert usages[0].workload == f"command {sys.executable} (line 1)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            python("import sys; sys.stderr.write('forbidden\\n'); sys.exit(3)"),
            "exited with status 3: forbidden",
        ),
        (python("raise SystemExit(1)"), "exited with status 1$"),
        (
            ("/nonexistent/kubectl", "get", "pods"),
            "cannot run '/nonexistent/kubectl': No such file",
        ),
        (python("print('UPPER/case:1')"), "line 1: 'UPPER/case:1'"),
    ],
)
def test_a_command_that_fails_is_a_failure(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        read_command(argv, timeout=None, environment={})


def test_a_command_that_runs_too_long_is_a_failure() -> None:
    seen: dict[str, Any] = {}

    def times_out(argv: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        seen.update(options, argv=argv)
        raise subprocess.TimeoutExpired(argv, options["timeout"])

    with pytest.raises(SourceError, match="timed out after 90s"):
        read_command(["kubectl"], timeout=timedelta(seconds=90), environment={}, run=times_out)
    # No shell, no stdin to wait on, the timeout handed to subprocess.
    assert seen["argv"] == ["kubectl"] and seen["timeout"] == 90
    assert seen["stdin"] is subprocess.DEVNULL and "shell" not in seen


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (InUseSource("ecs"), "ecs"),
        (InUseSource("lambda"), "lambda"),
        (InUseSource("file", (("path", "/etc/in-use.txt"),)), "file /etc/in-use.txt"),
        (
            InUseSource("command", (("argv", ("kubectl", "get", "pods")),)),
            "command kubectl get pods",
        ),
        (InUseSource("command", (("argv", ("x" * 100,)),)), "command " + "x" * 69 + "..."),
    ],
)
def test_sources_are_named_in_reports_by_kind_and_what_they_read(
    source: InUseSource, expected: str
) -> None:
    assert label(source) == expected


class NoClients:
    def for_target(self, service: str, target: Target) -> Any:
        raise AssertionError(f"no AWS client expected, asked for {service}")


def test_the_reader_reads_each_source_once_and_keeps_them_apart(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("app:1\n")
    b.write_text("app:2\n")
    file_a = InUseSource("file", (("path", str(a)),))
    file_b = InUseSource("file", (("path", str(b)),))
    found = InUseReader(NoClients()).read(TARGET, [file_a, file_b, file_a])
    assert {source: texts(usages) for source, usages in found.items()} == {
        file_a: ["app:1"],
        file_b: ["app:2"],
    }


def test_one_unreadable_source_makes_the_whole_read_fail(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("app:1\n")
    sources = [
        InUseSource("file", (("path", str(good)),)),
        InUseSource("command", (("argv", python("raise SystemExit(1)")),)),
    ]
    with pytest.raises(InUseUnavailable) as caught:
        InUseReader(NoClients()).read(TARGET, sources)
    assert str(caught.value).startswith(f"in-use source command {sys.executable} -c")
    assert str(caught.value).endswith("could not be read: SourceError: exited with status 1")
