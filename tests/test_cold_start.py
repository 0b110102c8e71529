"""What a start costs: the word forms of a model's labels are kept between starts, so the CLI
and the app do not import `inflect` (a second or more) once they have been computed — and only
those: the words of questions are never written to disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from pathlib import Path
from assistant.understand.vocabulary import label_inflections, remember_in, save_forms
remember_in(Path(sys.argv[1]))
print(label_inflections("claims"), label_inflections("policy amount"), "inflect" in sys.modules)
save_forms()
"""


def _probe(folder: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_word_forms_are_kept_and_read_back_without_inflect(tmp_path):
    first = _probe(tmp_path)
    assert first == "['claim'] ['policy amounts'] True"  # computed by inflect
    (kept,) = tmp_path.glob("inflections-*.json")
    assert json.loads(kept.read_text(encoding="utf-8"))["claims"] == ["claim"]
    assert _probe(tmp_path) == "['claim'] ['policy amounts'] False"  # read back, no import


def test_an_unreadable_store_is_computed_again(tmp_path):
    _probe(tmp_path)
    (kept,) = tmp_path.glob("inflections-*.json")
    kept.write_text("{not json", encoding="utf-8")
    assert _probe(tmp_path) == "['claim'] ['policy amounts'] True"
    assert json.loads(kept.read_text(encoding="utf-8"))["claims"] == ["claim"]


def test_words_from_questions_are_not_kept(tmp_path):
    probe = (
        "import sys\nfrom pathlib import Path\n"
        "from assistant.understand.vocabulary import inflections, remember_in, save_forms\n"
        "remember_in(Path(sys.argv[1]))\nprint(inflections('widgets'))\nsave_forms()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['widget']"
    assert list(tmp_path.glob("inflections-*.json")) == []
