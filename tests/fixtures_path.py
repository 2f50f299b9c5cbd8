"""Where the real API payloads live: ``shared/fixtures`` beside the repository. Tests that need
them skip with a clear message when the folder is absent."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


def fixtures_dir(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real API fixtures not found at {path} (shared/ beside the repo)")
    return path
