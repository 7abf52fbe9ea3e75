"""Fit the reader (`assistant/answering/reader_model.json`) on the training split and choose it on val.

One command reproduces the committed model on 2 cores (about 45 minutes from nothing, most of it embedding
the training articles once):

    python benchmarks/train_reader.py                       # index, retrieve, fit, choose, write the model
    python benchmarks/train_reader.py --curve               # + the learning curve (25/50/100% of train)

Steps, each cached under --work (default /tmp/reader-fit) so that a rerun starts where it stopped:
1. index each split (`assistant index`, MiniLM), and a "pages only" copy without the `ev-` digests;
2. retrieve the top passages of every question as of its `asked_at` day, exactly as `assistant ask` does, and
   compute the stage-1 features of their candidate sentences (with that index's idf); a sentence's label says
   whether it contains an accepted answer (the evaluator's `contains_answer`);
3. fit stage 1 (LightGBM) on train, both settings; its out-of-fold probabilities pick each question's shortlist;
4. compute the stage-2 features of the shortlists (MiniLM similarity, kind of fact, short answer, votes) and
   fit stage 2;
5. on val (both settings) and the bundled samples, choose the abstention threshold and the bar for a second
   source; write the model file and `benchmarks/data/reader_fit.json` (figures, curve, settings).

The dev set is never read here. The model file holds tree weights and thresholds only, no text.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import SHARED  # ../shared, or NEWS_ASSISTANT_SHARED

DATASETS = SHARED / "datasets"
SPLITS = {"train": DATASETS / "realtimeqa-train", "val": DATASETS / "realtimeqa-2023-val"}
SAMPLES = ROOT / "samples"
DIGEST_PREFIX = "ev-"
TOP_K = 10  # passages retrieved per question (the eval's --top-k); the reader reads the first `PASSAGES`
PASSAGES = 5
SHORTLIST = 6  # MiniLM embeds these (+ the top passage's best two): its cost sets the reader's latency
SEED = 7
PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "verbose": -1, "num_threads": 2, "deterministic": True, "force_row_wise": True,
}
ROUNDS1, ROUNDS2 = 300, 300
SAMPLES_FLOOR = 0.75  # the samples' answer accuracy the rules' hand-over must keep (tests/test_eval_gate.py)
PART_BYTES = 40_000_000  # `assistant index` refuses files over 64 MB: larger JSONL files are split


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------- 1. indexes

def ensure_index(name: str, articles: Path, data_dir: Path) -> None:
    marker = data_dir / ".reader-fit-indexed"
    if marker.exists():
        return
    source = articles
    if articles.is_file() and articles.stat().st_size > PART_BYTES:  # over the reader's per-file limit
        source = data_dir.parent / f"{name}-src"
        source.mkdir(parents=True, exist_ok=True)
        part, size, out = 0, 0, None
        with articles.open(encoding="utf-8") as lines:
            for line in lines:
                if out is None or size > PART_BYTES:
                    if out is not None:
                        out.close()
                    out, size, part = (source / f"part{part:02d}.jsonl").open("w", encoding="utf-8"), 0, part + 1
                out.write(line)
                size += len(line.encode("utf-8"))
        if out is not None:
            out.close()
    log(f"indexing {articles} into {data_dir} (MiniLM; the slow step)")
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(source), "--data-dir", str(data_dir)],
                          cwd=ROOT, check=False)
    if done.returncode not in (0, 1):  # 1: some lines were skipped (each named on stderr); the rest is indexed
        sys.exit(f"error: indexing {articles} failed")
    marker.write_text("ok\n")


def ensure_pages_copy(full: Path, pages: Path) -> None:
    """The index without the `ev-` digests: a copy of the full one with them removed (nothing re-embedded)."""
    marker = pages / ".reader-fit-indexed"
    if marker.exists():
        return
    if pages.exists():
        shutil.rmtree(pages)
    shutil.copytree(full, pages)
    (pages / ".reader-fit-indexed").unlink(missing_ok=True)
    assistant = _assistant(pages)
    digests = [a.article_id for a in assistant.list_articles() if a.article_id.startswith(DIGEST_PREFIX)]
    log(f"{pages.name}: removing {len(digests)} digest articles")
    for i in range(0, len(digests), 500):
        assistant.remove(digests[i:i + 500])
    marker.write_text("ok\n")


def _assistant(data_dir: Path):
    from assistant.factory import build_assistant
    from assistant.settings import Settings
    from index.models.offline import offline_environment

    offline_environment()
    return build_assistant(Settings(data_dir=str(data_dir), fast_start=True, reader=False))


# ---------------------------------------------------------------------------- 2. retrieval + stage-1 rows

def candidates(data_dir: Path, questions_file: Path, cache: Path, pages_only: bool) -> list[dict]:
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from assistant.evaluation.questions import load_questions

    assistant = _assistant(data_dir)
    reader = _unfitted_reader(assistant.answerer)
    items = []
    started = time.perf_counter()
    questions = load_questions(questions_file)
    for n, q in enumerate(questions, 1):
        retrieval, _ = assistant.retrieve(q.question, TOP_K, as_of=q.asked_at or None)
        passages = list(retrieval.passages)
        pool, rows1 = reader.stage1(q.question, passages)
        labels = _labels(pool, list(q.answers))
        items.append({"id": q.id, "question": q.question, "answers": list(q.answers), "unanswerable": q.unanswerable,
                      "evidence": [] if pages_only else list(q.evidence_ids), "passages": passages, "rows1": rows1,
                      "labels": labels, "read": reader.model.passages})
        if n % 200 == 0:
            log(f"{cache.stem}: {n}/{len(questions)} questions ({(time.perf_counter() - started) / n * 1000:.0f} ms each)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(items))
    return items


def _unfitted_reader(base):
    """A reader over an index's answerer (its idf and models) with no model yet: it computes stage-1 rows."""
    from assistant.answering.reader import ReaderAnswerer

    return ReaderAnswerer(base.embed_texts, base.idf, model=_Shape(),
                          shortlist_embed=base.shortlist_embed, sentence_embed=base.sentence_embed)


def _labels(pool, answers: list[str]) -> np.ndarray:
    """Whether each candidate sentence contains an accepted answer (the evaluator's `contains_answer`)."""
    from assistant.evaluation.metrics import contains_answer

    return np.array([bool(answers) and contains_answer(s.text, answers) for s in pool], dtype=np.int8)


def restage(data_dir: Path, items: list[dict]) -> list[dict]:
    """Recompute the stage-1 rows and labels of cached candidates computed for another number of passages
    read (`--passages`), with the idf of their own index: the cache keeps all `TOP_K` retrieved passages, so
    nothing is retrieved again."""
    stale = [it for it in items if it.get("read", PASSAGES) != _Shape.passages]
    if not stale:
        return items
    reader = _unfitted_reader(_assistant(data_dir).answerer)
    log(f"{data_dir.name}: stage-1 rows for {_Shape.passages} passages read")
    for it in stale:
        pool, it["rows1"] = reader.stage1(it["question"], it["passages"])
        it["labels"] = _labels(pool, it["answers"])
        it["read"] = _Shape.passages
    return items


class _Shape:
    """What the reader needs of a model before one is fitted: how many passages and shortlist sentences."""

    passages, shortlist, threshold, extra_threshold, rules_below = PASSAGES, SHORTLIST, 0.0, 1.0, 0.0


# ---------------------------------------------------------------------------- 3-4. fitting

def fit(rows: np.ndarray, labels: np.ndarray, rounds: int, seed: int):
    import lightgbm as lgb

    params = {**PARAMS, "seed": seed}
    return lgb.train(params, lgb.Dataset(rows, labels.astype(np.float32)), num_boost_round=rounds)


def stack(items: list[dict], key: str) -> np.ndarray:
    return np.vstack([it[key] for it in items if len(it[key])]) if items else np.zeros((0, 0))


def out_of_fold(items: list[dict], seed: int, folds: int = 2) -> None:
    """Each training question's stage-1 probabilities from a model that never saw it (`p1`)."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    for f in range(folds):
        held = set(order[f::folds])
        train = [it for i, it in enumerate(items) if i not in held]
        model = fit(stack(train, "rows1"), np.concatenate([it["labels"] for it in train]), ROUNDS1, seed)
        for i in held:
            it = items[i]
            it["p1"] = model.predict(it["rows1"], num_threads=2) if len(it["rows1"]) else np.zeros(0)


def stage2(reader, items: list[dict]) -> None:
    """Shortlist each question by its `p1` and compute the stage-2 rows and labels (`rows2`, `labels2`)."""
    for it in items:
        pool = reader.read_sentences(it["passages"])
        assert len(pool) == len(it["rows1"]), "the cached candidates were computed by other code: delete the cache"
        if not pool:
            it["rows2"], it["labels2"], it["picked"] = np.zeros((0, 0)), np.zeros(0, np.int8), []
            continue
        picked = reader.shortlist_of(pool, it["p1"])
        it["picked"] = picked
        it["rows2"] = reader.stage2_rows(it["question"], pool, it["rows1"], it["p1"], picked)
        it["labels2"] = it["labels"][picked]


# ---------------------------------------------------------------------------- 5. choosing

def answers(reader, items: list[dict], model) -> list[dict]:
    """The reader's answer to every item, from its cached passages and stage-1 rows."""
    from assistant.answering.reader import Reading

    out = []
    for it in items:
        pool = reader.read_sentences(it["passages"])
        assert len(pool) == len(it["rows1"]), "the cached candidates were computed by other code: delete the cache"
        if pool:
            p1 = model.predict1(it["rows1"])
            picked = reader.shortlist_of(pool, p1)
            rows2 = reader.stage2_rows(it["question"], pool, it["rows1"], p1, picked)
            p2 = model.predict2(rows2)
            order = np.argsort(-p2, kind="stable")
            reading = Reading([pool[picked[i]] for i in order], p2[order], rows2[order])
        else:
            reading = Reading([], np.zeros(0))
        it["reading"] = reading
        out.append(_judge(reader, it, reading))
    return out


def rejudge(reader, items: list[dict]) -> list[dict]:
    return [_judge(reader, it, it["reading"]) for it in items]


def _judge(reader, it, reading) -> dict:
    from dataclasses import replace

    from assistant.answering.extractive import compose

    chosen = reader.decide(it["question"], reading)
    draft = replace(compose(chosen), short_answer=reader.short(it["question"], chosen)) if chosen else None
    return _row(it, draft, len({s.passage.chunk.group_id for s in chosen}),
                float(reading.probabilities[0]) if len(reading.probabilities) else 0.0)


def _row(it: dict, draft, sources: int, best: float = 0.0) -> dict:
    """How an answer (a Draft; None or an abstention: no answer) scores on one question."""
    from assistant.evaluation.metrics import best_f1, contains_answer, strip_markers

    answered = draft is not None and not draft.abstained
    text = strip_markers(draft.text) if answered else ""
    answerable = not it["unanswerable"] and bool(it["answers"])
    return {"abstained": not answered, "answerable": answerable,
            "correct": answered and answerable and contains_answer(text, it["answers"]),
            "short_f1": best_f1(draft.short_answer, it["answers"]) if answered and answerable else 0.0,
            "words": len(text.split()), "sources": sources, "best": best}


def summary(rows: list[dict]) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["abstained"]]
    out = {
        "questions": len(rows),
        "accuracy": round(sum(r["correct"] for r in answerable) / max(1, len(answerable)), 4),
        "short_f1": round(sum(r["short_f1"] for r in answerable) / max(1, len(answerable)), 4),
        "wrongly_abstained": round(sum(r["abstained"] for r in answerable) / max(1, len(answerable)), 4),
        "median_words": statistics.median([r["words"] for r in answered]) if answered else 0,
        "multi_source": round(sum(r["sources"] > 1 for r in answered) / max(1, len(answered)), 4),
    }
    if unanswerable:
        out["unanswerable_abstained"] = round(sum(r["abstained"] for r in unanswerable) / len(unanswerable), 4)
    return out


def choose(reader, model_parts: dict, val: dict[str, list[dict]], samples: list[dict]) -> tuple[float, float, dict]:
    """The abstention threshold and the second-source bar.

    Threshold: among those that keep val's (as given) and the samples' answerable questions wrongly
    abstained at most 5%, the one with the most unanswerable sample questions abstained, then the best
    val accuracy (ties: the lower). Second-source bar: the one with the best mean
    val accuracy whose median answer stays at most 40 words."""
    thresholds = [round(x, 3) for x in np.arange(0.02, 0.62, 0.02)]
    best = None
    table = []
    for t in thresholds:
        model_parts["threshold"], model_parts["extra_threshold"] = t, 2.0
        reader._model = _Model(**model_parts)
        val_rows = {k: rejudge(reader, v) for k, v in val.items()}
        s_rows = rejudge(reader, samples)
        stats = {k: summary(v) for k, v in val_rows.items()}
        ss = summary(s_rows)
        table.append({"threshold": t, **{f"val_{k}": v for k, v in stats.items()}, "samples": ss})
        # (pages only holds questions whose pages lack the answer: abstaining there is no error to bound)
        ok = stats["given"]["wrongly_abstained"] <= 0.05 and ss["wrongly_abstained"] <= 0.05
        key = (ok, ss.get("unanswerable_abstained", 0.0) if ok else -t,
               sum(v["accuracy"] for v in stats.values()), -t)
        if best is None or key > best[0]:
            best = (key, t)
    threshold = best[1]
    best_extra = None
    for extra in (2.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3):
        model_parts["threshold"], model_parts["extra_threshold"] = threshold, extra
        reader._model = _Model(**model_parts)
        stats = {k: summary(rejudge(reader, v)) for k, v in val.items()}
        ok = all(v["median_words"] <= 40 for v in stats.values())
        key = (ok, round(sum(v["accuracy"] for v in stats.values()), 4), extra)
        table.append({"threshold": threshold, "extra_threshold": extra, **{f"val_{k}": v for k, v in stats.items()}})
        if best_extra is None or key > best_extra[0]:
            best_extra = (key, extra)
    return threshold, best_extra[1], {"sweep": table}


def choose_defer(reader, val: dict[str, list[dict]], samples: list[dict]) -> tuple[float, dict]:
    """`rules_below`, the reader's best probability under which the rules answer (as `ReaderAnswerer.answer`
    does): among the values keeping the samples' answer accuracy at least `SAMPLES_FLOOR` (the CI gate on
    them: clean articles, where the reader's lead prior misleads), the one with the best mean val accuracy
    (both settings), ties to the one abstaining on more of the samples' unanswerable questions, then the
    lower. The rules' answer to each question is computed once; each value then only recombines."""
    from assistant.answering.extractive import ExtractiveAnswerer

    sets = {**{f"val_{k}": v for k, v in val.items()}, "samples": samples}
    for items in sets.values():
        for it in items:
            if "rules" not in it:
                it["rules"] = ExtractiveAnswerer.answer(reader, it["question"], it["passages"])
    values = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5]
    table, best = [], None
    saved = reader._model.rules_below
    try:
        for value in values:
            reader._model.rules_below = value
            stats = {}
            for name, items in sets.items():
                drafts = [reader.combine(it["question"], it["reading"], it["rules"]) for it in items]
                stats[name] = summary([_row(it, d, len({c.article_id for c in d.citations}))
                                       for it, d in zip(items, drafts)])
            table.append({"rules_below": value, **stats})
            ok = stats["samples"]["accuracy"] >= SAMPLES_FLOOR
            key = (ok, round((stats["val_given"]["accuracy"] + stats["val_pages"]["accuracy"]) / 2, 4) if ok
                   else stats["samples"]["accuracy"], stats["samples"].get("unanswerable_abstained", 0.0), -value)
            if best is None or key > best[0]:
                best = (key, value)
    finally:
        reader._model.rules_below = saved
    return best[1], {"defer_sweep": table}


class _Model:
    def __init__(self, stage1, stage2, threshold, extra_threshold, shortlist=SHORTLIST, passages=None,
                 rules_below=None):
        from assistant.answering.reader import RULES_BELOW

        self.stage1, self.stage2 = stage1, stage2
        self.rules_below = RULES_BELOW if rules_below is None else rules_below
        self.threshold, self.extra_threshold = threshold, extra_threshold
        self.shortlist, self.passages = shortlist, _Shape.passages if passages is None else passages

    def predict1(self, rows):
        return self.stage1.predict(rows, num_threads=2) if len(rows) else np.zeros(0)

    def predict2(self, rows):
        return self.stage2.predict(rows, num_threads=2) if len(rows) else np.zeros(0)


# ---------------------------------------------------------------------------- main

def unique_questions(source: Path, work: Path) -> Path:
    """A copy of a question set without repeated lines; a reused id with another question gets a suffix
    (the val set repeats 10 lines of one week and gives one id to two questions)."""
    out = work / f"{source.parent.name}-questions.jsonl"
    seen_lines, seen_ids, lines = set(), {}, []
    for line in source.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line in seen_lines:
            continue
        seen_lines.add(line)
        record = json.loads(line)
        n = seen_ids[record["id"]] = seen_ids.get(record["id"], 0) + 1
        if n > 1:
            record["id"] = f"{record['id']}-{n}"
        lines.append(json.dumps(record, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def load_all(work: Path) -> dict[str, list[dict]]:
    out = {}
    for split, folder in SPLITS.items():
        full, pages = work / split, work / f"{split}-pages"
        ensure_index(split, folder / "articles.jsonl", full)
        ensure_pages_copy(full, pages)
        questions = unique_questions(folder / "questions.jsonl", work)
        out[f"{split}-given"] = restage(full, candidates(full, questions, work / "cache" / f"{split}-given.pkl", False))
        out[f"{split}-pages"] = restage(pages, candidates(pages, questions, work / "cache" / f"{split}-pages.pkl", True))
    samples_dir = work / "samples"
    ensure_index("samples", SAMPLES / "articles", samples_dir)
    out["samples"] = restage(samples_dir, candidates(samples_dir, SAMPLES / "questions.jsonl",
                                                    work / "cache" / "samples.pkl", False))
    return out


def train_once(data: dict[str, list[dict]], fraction: float, seed: int, reader) -> tuple[dict, dict]:
    train = data["train-given"] + data["train-pages"]
    if fraction < 1.0:  # whole weeks of questions, so both settings of a question stay together
        ids = sorted({it["id"] for it in train})
        random.Random(seed).shuffle(ids)
        keep = set(ids[: int(len(ids) * fraction)])
        train = [it for it in train if it["id"] in keep]
    log(f"stage 1: {sum(len(it['labels']) for it in train):,} sentences of {len(train):,} questions")
    out_of_fold(train, seed)
    stage1 = fit(stack(train, "rows1"), np.concatenate([it["labels"] for it in train]), ROUNDS1, seed)
    stage2(reader, train)
    rows2 = stack(train, "rows2")
    labels2 = np.concatenate([it["labels2"] for it in train if len(it["rows2"])])
    log(f"stage 2: {len(labels2):,} shortlisted sentences, {labels2.mean():.3f} of them answer")
    stage2_model = fit(rows2, labels2, ROUNDS2, seed)
    return {"stage1": stage1, "stage2": stage2_model, "threshold": 0.0, "extra_threshold": 2.0}, {
        "train_questions": len({it["id"] for it in train}), "train_sentences": int(sum(len(it["labels"]) for it in train)),
        "stage2_rows": len(labels2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/reader-fit"))
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / "answering" / "reader_model.json")
    parser.add_argument("--report", type=Path, default=ROOT / "benchmarks" / "data" / "reader_fit.json")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--curve", action="store_true", help="also fit on 25%% and 50%% of train (learning curve)")
    parser.add_argument("--passages", type=int, default=PASSAGES, help=f"passages the reader reads, of the {TOP_K} retrieved (default {PASSAGES})")
    args = parser.parse_args()
    _Shape.passages = args.passages
    if not all(p.is_dir() for p in SPLITS.values()):
        sys.exit(f"error: the training and validation sets are missing under {DATASETS}")
    from assistant.answering.reader import FORMAT, STAGE1, STAGE2, ReaderAnswerer, RememberedEmbed

    started = time.perf_counter()
    data = load_all(args.work)
    log("candidates ready")
    probe = _assistant(args.work / "samples").answerer
    reader = ReaderAnswerer(probe.embed_texts, probe.idf, model=_Shape(), shortlist_embed=probe.shortlist_embed,
                            sentence_embed=RememberedEmbed(probe.sentence_embed, size=10**9))
    val = {"given": data["val-given"], "pages": data["val-pages"]}
    report: dict = {"seed": args.seed, "params": PARAMS, "rounds": [ROUNDS1, ROUNDS2], "passages": args.passages,
                    "shortlist": SHORTLIST, "curve": []}
    fractions = (0.25, 0.5, 1.0) if args.curve else (1.0,)
    final = None
    for fraction in fractions:
        parts, info = train_once(data, fraction, args.seed, reader)
        reader._model = _Model(**parts)
        figures = {k: summary(answers(reader, v, reader._model)) for k, v in val.items()}
        figures["samples"] = summary(answers(reader, data["samples"], reader._model))
        threshold, extra, sweep = choose(reader, parts, val, data["samples"])
        parts["threshold"], parts["extra_threshold"] = threshold, extra
        reader._model = _Model(**parts)
        chosen = {k: summary(rejudge(reader, v)) for k, v in val.items()}
        chosen["samples"] = summary(rejudge(reader, data["samples"]))
        log(f"fraction {fraction}: threshold {threshold}, extra {extra}: {json.dumps(chosen)}")
        report["curve"].append({"fraction": fraction, **info, "val_at_zero_threshold": figures, "val": chosen,
                                "threshold": threshold, "extra_threshold": extra})
        if fraction == 1.0:
            final, report["sweep"] = parts, sweep["sweep"]
            log("choosing when the rules decide (the rules answer every val question once)")
            final["rules_below"], defer = choose_defer(reader, val, data["samples"])
            report["rules_below"], report["defer_sweep"] = final["rules_below"], defer["defer_sweep"]
            chosen_row = next(r for r in defer["defer_sweep"] if r["rules_below"] == final["rules_below"])
            log(f"rules below {final['rules_below']}: {json.dumps(chosen_row)}")
    assert final is not None
    report["minutes"] = round((time.perf_counter() - started) / 60, 1)
    model = {
        "format": FORMAT, "stage1_features": list(STAGE1), "stage2_features": list(STAGE2),
        "threshold": final["threshold"], "extra_threshold": final["extra_threshold"],
        "rules_below": final["rules_below"],
        "shortlist": SHORTLIST, "passages": args.passages,
        "meta": {"fitted_on": "realtimeqa-train (2022 + 2024), as given and pages only",
                 "chosen_on": "realtimeqa-2023-val (both settings) + samples near-miss pairs",
                 "seed": args.seed, "lightgbm": __import__("lightgbm").__version__,
                 "val": report["curve"][-1]["val"]},
        "stage1": final["stage1"].model_to_string(), "stage2": final["stage2"].model_to_string(),
    }
    args.out.write_text(json.dumps(model) + "\n", encoding="utf-8")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) and {args.report}")


if __name__ == "__main__":
    main()
