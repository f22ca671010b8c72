"""The README's complete study-file example must stay valid."""

from __future__ import annotations

import re
from pathlib import Path

from rltui.spec import check_text

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_study_example_is_valid():
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    example = next(b for b in blocks if b.startswith("name:"))
    study, problems = check_text(example, "README.md")
    assert study is not None, [p.format("README.md") for p in problems]
    assert study.space.grid == {"ent_coef": (0.0, 0.01)}
    assert study.space.fixed == {"clip_range": 0.2}
