"""A test run leaves the checkout as it found it: conftest fails the session otherwise.

The check itself is shown to fail here, on a throwaway git checkout holding this conftest and
one test that writes a file next to it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _checkout(tmp_path, test_body):
    root = tmp_path / "checkout"
    (root / "tests").mkdir(parents=True)
    shutil.copy(TESTS / "conftest.py", root / "tests" / "conftest.py")
    (root / "tests" / "test_probe.py").write_text(test_body, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "probe"], cwd=root, check=True)
    return root


def _pytest(root):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_test_writing_into_the_checkout_fails_the_run(tmp_path):
    root = _checkout(
        tmp_path,
        "from pathlib import Path\n\n\ndef test_leak():\n"
        "    (Path(__file__).parent.parent / 'leak.db').write_text('x')\n",
    )
    result = _pytest(root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the tests wrote into the checkout" in result.stdout
    assert "leak.db" in result.stdout


def test_a_clean_run_passes(tmp_path):
    root = _checkout(
        tmp_path, "def test_nothing(tmp_path):\n    (tmp_path / 'fine.db').write_text('x')\n"
    )
    result = _pytest(root)
    assert result.returncode == 0, result.stdout + result.stderr
