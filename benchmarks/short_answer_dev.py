"""How well `assistant.answering.short_answer` picks the answering span of a sentence, on the RealTime QA dev set.

For each of the 190 dev questions the evidence passage is split into sentences and two sentences are tried:
the "oracle" sentence (the first one that contains an accepted answer; none when the passage has no answer
string) and the "overlap" sentence (the one sharing the most question content words, as the extractive
answerer would roughly pick). Each row reports the share of questions with an answer kind, the share with a
span, exact match and token F1 of the short answer (metrics.exact_match / best_f1), and the F1 of the whole
sentence for comparison. Questions without a kind, a span or an oracle sentence count as 0; the "in
passage" rows only count the questions whose passage holds an answer string. The project's own samples
(samples/questions.jsonl, oracle sentence) are a second, small row. Then the 15 worst misses.

    python benchmarks/short_answer_dev.py [--misses N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import SHARED  # ../shared, or NEWS_ASSISTANT_SHARED

from assistant.answering.short_answer import answer_kind, short_answer
from assistant.evaluation.metrics import best_f1, contains_answer, exact_match
from index.intake.articles import parse_front_matter
from index.text.sentences import split_sentences
from index.text.terms import tokenize

DEV = SHARED / "datasets" / "realtimeqa-2023"


def sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


def oracle_sentence(sents: list[str], answers: list[str]) -> str | None:
    return next((s for s in sents if contains_answer(s, answers)), None)


def overlap_sentence(sents: list[str], question: str) -> str | None:
    asked = set(tokenize(question))
    return max(sents, key=lambda s: len(asked & set(tokenize(s))), default=None)


def judge(question: str, sentence: str | None, answers: list[str]) -> dict:
    kind = answer_kind(question)
    span = short_answer(question, sentence) if sentence else None
    short = sentence[span[0]:span[1]] if span else ""
    return {"kind": kind, "has_kind": kind is not None, "short": short, "span": span is not None,
            "em": exact_match(short, answers) if short else False,
            "f1": best_f1(short, answers) if short else 0.0,
            "full_f1": best_f1(sentence, answers) if sentence else 0.0,
            "sentence": sentence or ""}


def row(name: str, results: list[dict]) -> str:
    n = len(results) or 1

    def mean(key: str) -> float:
        return sum(float(r[key]) for r in results) / n

    return (f"| {name:<32} | {len(results):>3} | {mean('has_kind'):>5.0%} | {mean('span'):>5.0%} | "
            f"{mean('em'):>5.1%} | {mean('f1'):>6.3f} | {mean('full_f1'):>7.3f} |")


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=15, help="how many of the worst misses to print")
    args = parser.parse_args()
    if not (DEV / "questions.jsonl").exists():
        print(f"error: the RealTime QA dev set is missing at {DEV} (the ../shared checkout)", file=sys.stderr)
        return 2
    questions = load_jsonl(DEV / "questions.jsonl")
    passages = {a["id"]: a["text"] for a in load_jsonl(DEV / "articles.jsonl") if a["id"].startswith("ev-")}
    oracle, overlap = [], []
    for q in questions:
        sents = sentences(passages.get(f"ev-{q['id']}", ""))
        oracle.append(judge(q["question"], oracle_sentence(sents, q["answer"]), q["answer"]) | {"q": q})
        overlap.append(judge(q["question"], overlap_sentence(sents, q["question"]), q["answer"]) | {"q": q})
    in_passage = [i for i, r in enumerate(oracle) if r["sentence"]]

    samples = []
    for q in load_jsonl(ROOT / "samples" / "questions.jsonl"):
        if not q.get("answer"):
            continue
        text = "".join(parse_front_matter((ROOT / "samples" / "articles" / f"{e}.md").read_text("utf-8"))[1]
                       for e in q["evidence_ids"])
        samples.append(judge(q["question"], oracle_sentence(sentences(text), q["answer"]), q["answer"]))

    print("| sentence                         |   n |  kind |  span |    EM |     F1 | full F1 |")
    print("|---|---|---|---|---|---|---|")
    print(row("oracle (all 190)", oracle))
    print(row("overlap (all 190)", overlap))
    print(row("oracle (answer in passage)", [oracle[i] for i in in_passage]))
    print(row("overlap (answer in passage)", [overlap[i] for i in in_passage]))
    print(row("samples, oracle (answerable)", samples))

    print(f"\n{args.misses} worst misses on the oracle sentence (answer in passage; lowest F1 first):")
    misses = sorted((oracle[i] for i in in_passage), key=lambda r: (r["f1"], r["kind"] is None))
    for r in misses[:args.misses]:
        print(f"- [{r['kind']}] {r['q']['question']}\n    answer {r['q']['answer']!r}, got {r['short']!r}"
              f" (F1 {r['f1']:.2f})\n    in: {r['sentence'][:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
