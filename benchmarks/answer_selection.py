"""Which sentence the extractive answerer quotes, and its short answer: each step of the answer-selection
change turned on in turn, on the RealTime QA dev set and on the project's samples (the guard for abstention:
the dev set has no unanswerable question).

Retrieval runs once per question set (the default settings, as of each question's `asked_at`, top 10) and is
kept in memory; then only the answerer runs for each row, so a row takes seconds, not the minutes of a
full `assistant eval`. The last row is the default answerer and equals `assistant eval`'s figures.

    python benchmarks/answer_selection.py [--set dev|samples|both] [--dev-data DIR] [--samples-data DIR]

DIRs are data dirs holding the set's index (built on first use: the dev set takes ~10 minutes to embed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from common import SHARED  # ../shared, or NEWS_ASSISTANT_SHARED

DEV = SHARED / "datasets" / "realtimeqa-2023"

# The state before the change (answerer attributes and module constants), then each row's step on top of
# the rows above it; None: the defaults as shipped.
BEFORE = {"passages_considered": 5, "min_score": 0.3, "PASSAGE_PRIOR": 0.0, "TOP_PASSAGE_SENTENCES": 0,
          "TYPED_MIN_SIMILARITY": 9.0}
STEPS: list[tuple[str, dict | None]] = [
    ("before: 5 passages, score orders, min score 0.30", {}),
    ("+ passage prior 0.6 in the order (not in the score)", {"PASSAGE_PRIOR": 0.6}),
    ("+ 3 passages", {"passages_considered": 3}),
    ("+ top passage's 2 best sentences always embedded", {"TOP_PASSAGE_SENTENCES": 2}),
    ("+ min score 0.25", {"min_score": 0.25}),
    ("+ typed common-noun short answers (default)", None),
]


def _score(answerer, questions, retrieved) -> dict:
    from assistant.evaluation.metrics import best_f1, contains_answer, strip_markers

    n = acc = f1 = wrong_abst = cited = un = un_abst = 0
    for q, (passages, embedding) in zip(questions, retrieved):
        draft = answerer.answer(q.question, passages, embedding)
        if q.unanswerable:
            un += 1
            un_abst += draft.abstained
            continue
        n += 1
        acc += (not draft.abstained) and contains_answer(strip_markers(draft.text), q.answers)
        f1 += best_f1(draft.short_answer, q.answers) if draft.short_answer else 0.0
        wrong_abst += draft.abstained
        cited += any(c.article_id in q.evidence_ids for c in draft.citations)
    out = {"accuracy": acc / n, "short_f1": f1 / n, "wrongly_abstained": wrong_abst / n, "cited_evidence": cited / n}
    if un:
        out["unanswerable_abstained"] = un_abst / un
    return out


def run_set(name: str, questions_file: Path, articles: Path, data_dir: Path) -> list[tuple[str, dict]]:
    os.environ["ASSISTANT_DATA_DIR"] = str(data_dir)
    subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(articles)], cwd=ROOT, check=True,
                   capture_output=True)
    from assistant.answering import extractive
    from assistant.evaluation.questions import parse_question
    from assistant.factory import build_assistant
    from assistant.settings import Settings

    assistant = build_assistant(Settings())
    questions = [parse_question(json.loads(line), i)
                 for i, line in enumerate(questions_file.read_text().splitlines(), 1) if line.strip()]
    retrieved = []
    for q in questions:
        retrieval, _ = assistant.retrieve(q.question, 10, as_of=q.asked_at or None)
        retrieved.append((list(retrieval.passages), retrieval.query_embedding))
    answerer = assistant.answerer
    defaults = {k: getattr(answerer if hasattr(answerer, k) else extractive, k) for k in BEFORE}
    state, rows = dict(BEFORE), []
    for label, step in STEPS:
        state = dict(defaults) if step is None else {**state, **step}
        for k, v in state.items():
            setattr(answerer if hasattr(answerer, k) else extractive, k, v)
        rows.append((label, _score(answerer, questions, retrieved)))
        print(f"{name:8} {label:52} " + " ".join(f"{k} {v:.3f}" for k, v in rows[-1][1].items()), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("dev", "samples", "both"), default="both")
    parser.add_argument("--dev-data", type=Path, default=Path("/tmp/answer-selection/dev"))
    parser.add_argument("--samples-data", type=Path, default=Path("/tmp/answer-selection/samples"))
    args = parser.parse_args()
    if args.set in ("samples", "both"):
        run_set("samples", ROOT / "samples" / "questions.jsonl", ROOT / "samples" / "articles", args.samples_data)
    if args.set in ("dev", "both"):
        if not DEV.is_dir():
            raise SystemExit(f"no dev set at {DEV}")
        # a second process: the settings (data dir) are read once per process
        if args.set == "both":
            subprocess.run([sys.executable, __file__, "--set", "dev", "--dev-data", str(args.dev_data)], check=True)
        else:
            run_set("dev", DEV / "questions.jsonl", DEV / "articles.jsonl", args.dev_data)


if __name__ == "__main__":
    main()
