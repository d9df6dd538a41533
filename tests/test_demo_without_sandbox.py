"""`demo` and `sandbox` on an install without the sandbox extra: exit 2, say how."""

from __future__ import annotations

import subprocess
import sys

import pytest

# moto made unimportable, as on `pip install ecr-cleaner` without extras.
WITHOUT_MOTO = (
    "import sys; sys.modules['moto'] = None; "
    "from cleaner.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.slow  # a fresh Python in a subprocess each: ~0.2 s
@pytest.mark.parametrize("command", [["demo"], ["sandbox", "--seed", "demo"]])
def test_without_the_sandbox_extra_it_exits_2_saying_how_to_install_it(
    command: list[str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_MOTO, *command], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "pip install 'ecr-cleaner[sandbox]'" in done.stderr
    assert "Traceback" not in done.stderr
