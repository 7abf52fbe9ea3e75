"""`assistant eval --pages-only`: the `ev-` evidence digests are never indexed, retrieved or cited (those in
the index already are removed first), every question's evidence_ids is emptied, and the reports say so.
Small article and question files written for this test; the hashing embedding keeps it fast."""

from __future__ import annotations

import json

from conftest import run_cli
from eval_helpers import five_rows

from assistant.evaluation.pages_only import (
    DIGEST_PREFIX,
    evidence_only,
    is_digest,
    leave_out_digests,
    remove_digests,
    without_evidence,
)
from assistant.evaluation.questions import Question
from assistant.evaluation.report import build_report, summary_table, to_markdown
from index.intake.articles import Article, LoadFailure

HASHING = {"ASSISTANT_EMBEDDING": "hashing"}
DIGESTS = [
    {"id": "ev-p1", "title": "Quiz digest: Marlow ferry", "published_at": "2024-03-08",
     "text": "The Marlow ferry service resumed on Monday after the harbour authority repaired the pier. "
             "The ferry carries about 1,200 passengers a day across the estuary."},
    {"id": "ev-p2", "title": "Quiz digest: Orchard Hill library", "published_at": "2024-03-08",
     "text": "Orchard Hill opened its new public library on Saturday. The library holds 90,000 books and "
             "was designed by the architect Ines Brandt."},
]
PAGES = [
    {"id": "page-ferry", "title": "Ferry back on the water", "url": "https://example.org/ferry",
     "source": "Estuary Post", "published_at": "2024-03-05",
     "text": "Passengers queued at dawn as the Marlow ferry returned to service on Monday. Repairs to the "
             "pier had kept the boat tied up for six weeks. The harbour authority said the ferry would run "
             "every half hour until the summer timetable begins."},
    {"id": "page-library", "title": "A library for Orchard Hill", "url": "https://example.org/library",
     "source": "Hill Gazette", "published_at": "2024-03-03",
     "text": "Hundreds of readers lined up on Saturday for the opening of the Orchard Hill library. The "
             "building, designed by Ines Brandt, has reading rooms on three floors and a children's garden."},
    {"id": "page-weather", "title": "Wet week ahead", "url": "https://example.org/weather",
     "source": "Estuary Post", "published_at": "2024-03-04",
     "text": "Forecasters expect heavy rain across the estuary towns for most of the week, with strong winds "
             "on Thursday and a dry, cold weekend."},
]
QUESTIONS = [
    {"id": "p1", "question": "When did the Marlow ferry return to service?", "answer": ["Monday"],
     "evidence_ids": ["ev-p1"], "asked_at": "2024-03-08"},
    {"id": "p2", "question": "Who designed the Orchard Hill library?", "answer": ["Ines Brandt"],
     "evidence_ids": ["ev-p2"], "asked_at": "2024-03-08"},
    {"id": "p3", "question": "How many books does the Orchard Hill library hold?", "evidence_ids": ["ev-p2"],
     "asked_at": "2024-03-08"},
]


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _articles_in(row: dict) -> set[str]:
    return ({p["article_id"] for p in row["passages"]} | set(row["ranking"])
            | {c["article_id"] for c in row["citations"]})


def test_pages_only_end_to_end(tmp_path):
    articles = write_jsonl(tmp_path / "articles.jsonl", DIGESTS + PAGES)
    questions = write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)

    # A plain run indexes the digests, and retrieval finds them: what --pages-only must take away.
    plain = run_cli("eval", str(questions), "--articles", str(articles), "--out", str(tmp_path / "plain"),
                    env=HASHING)
    assert plain.returncode == 0, plain.stderr
    report = json.loads((tmp_path / "plain" / "report.json").read_text())
    assert report["settings"]["pages_only"] is False and report["index"]["articles"] == 5
    assert any(is_digest(a) for r in report["questions"] for a in _articles_in(r))
    assert "pages only" not in (tmp_path / "plain" / "report.md").read_text()

    # Same data dir: the two digests already indexed are removed, the two given again are left out.
    run = run_cli("eval", str(questions), "--articles", str(articles), "--pages-only",
                  "--out", str(tmp_path / "pages"), env=HASHING)
    assert run.returncode == 0, run.stderr
    assert "pages only: removed 2 ev-* digest article(s) from the index" in run.stderr
    assert "pages only: left out 2 ev-* digest article(s) given with --articles" in run.stderr
    assert "1 question(s) have only evidence_ids" in run.stderr and "(p3)" in run.stderr
    assert "evidence id(s) are not in the index" not in run.stderr
    assert "pages only" in run.stdout
    report = json.loads((tmp_path / "pages" / "report.json").read_text())
    assert report["settings"]["pages_only"] is True
    assert report["index"]["articles"] == len(PAGES)
    assert [r["id"] for r in report["questions"]] == ["p1", "p2", "p3"]
    for row in report["questions"]:
        assert row["evidence_ids"] == [] and row["first_hit_rank"] is None
        assert row["ranking"] and not any(is_digest(a) for a in _articles_in(row)), row
        assert all(c["in_evidence"] is None for c in row["citations"])
    assert report["counts"]["with_evidence"] == 0 and report["summary"]["hit@5"] is None
    assert any(r["passages"] for r in report["questions"])  # the pages were retrieved
    assert "- pages only (ev-* evidence digests left out" in (tmp_path / "pages" / "report.md").read_text()
    assert "pages only" in (tmp_path / "pages" / "report.html").read_text()

    # Without --articles, an index that holds digests again loses them before any question is asked.
    again = run_cli("eval", str(questions), "--articles", str(articles), "--out", str(tmp_path / "again"),
                    env=HASHING)
    assert again.returncode == 0, again.stderr
    last = run_cli("eval", str(questions), "--pages-only", "--out", str(tmp_path / "last"), env=HASHING)
    assert last.returncode == 0, last.stderr
    assert "pages only: removed 2 ev-* digest article(s)" in last.stderr and "left out" not in last.stderr
    report = json.loads((tmp_path / "last" / "report.json").read_text())
    assert report["index"]["articles"] == len(PAGES)
    assert not any(is_digest(a) for r in report["questions"] for a in _articles_in(r))


def test_helpers(hashing_assistant, tmp_path):
    assert DIGEST_PREFIX == "ev-" and is_digest("ev-20230106_0") and not is_digest("page-ev-1")
    items = [Article(id="ev-p1", text="A digest."), Article(id="page", text="A page."),
             LoadFailure("bad.jsonl:3", "invalid JSON")]
    kept, left_out = leave_out_digests(items)
    assert left_out == 1 and [getattr(i, "id", None) for i in kept] == ["page", None]

    questions = [Question("a", "Who?", ("X",), ("ev-a",)), Question("b", "What?", (), ("ev-b",)),
                 Question("c", "Why?", unanswerable=True)]
    assert evidence_only(questions) == ["b"]
    assert [q.evidence_ids for q in without_evidence(questions)] == [(), (), ()]
    assert [q.answers for q in without_evidence(questions)] == [("X",), (), ()]

    assert remove_digests(hashing_assistant) == 0  # an empty index
    hashing_assistant.index([write_jsonl(tmp_path / "a.jsonl", DIGESTS + PAGES)])
    assert remove_digests(hashing_assistant) == 2
    assert hashing_assistant.store.article_ids() == {p["id"] for p in PAGES}


def test_reports_say_pages_only(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    for flag in (True, False):
        report = build_report(five_rows(), questions_file=questions, backend="extractive",
                              settings={"top_k": 5, "dates": "asked_at", "pages_only": flag})
        assert report["settings"]["pages_only"] is flag
        assert ("pages only" in to_markdown(report)) is flag and ("pages only" in summary_table(report)) is flag
    old = build_report(five_rows(), questions_file=questions, backend="extractive", settings={"top_k": 5})
    assert "pages only" not in to_markdown(old)  # a report from before the flag
