"""Reports: report.json/md/html written and parseable, HTML escaped and self-contained, --compare deltas."""

from __future__ import annotations

import datetime
import json
from html.parser import HTMLParser

import pytest
from eval_helpers import citation, five_rows, row

from assistant.errors import AssistantError
from assistant.evaluation.compare import SCHEMA_VERSION, compare, flip_lines, load_report
from assistant.evaluation.questions import Question
from assistant.evaluation.report import (
    build_report,
    fmt,
    fmt_delta,
    summary_table,
    to_markdown,
    write_reports,
)
from assistant.evaluation.scoring import Observation, score_question
from assistant.retrieval.timewindow import TimeWindow
from assistant.types import Answer

EVIL = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"


def report_for(rows, tmp_path, **kw):
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    return build_report(rows, questions_file=questions, settings={"top_k": 5}, backend="extractive",
                        embedding_model="hashing-256", index={"articles": 3, "chunks": 9}, **kw)


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str | None]] = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_three_reports_written_and_parse(tmp_path):
    report = report_for(five_rows(), tmp_path, warnings=["1 evidence id(s) are not in the index: zz"])
    paths = write_reports(report, tmp_path / "out")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    data = json.loads(paths[0].read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 2 and data["backend"] == "extractive"
    assert data["summary"]["pass_rate"] == 0.4 and len(data["questions"]) == 5
    assert set(data["by_type"]) == {"(none)", "a", "u"}
    assert data["settings"]["top_k"] == 5 and data["settings"]["support_min_overlap"] == 0.5
    assert len(data["questions_sha256"]) == 64
    md = paths[1].read_text()
    assert md.startswith("# Evaluation report") and "| pass_rate | 40.0% |" in md and "zz" in md
    page = Tags()
    page.feed(paths[2].read_text())
    assert {"svg", "polyline", "table", "style"} <= page.tags
    assert "Questions (2 of 5 passed)" in "".join(page.text)


def test_html_escapes_question_and_answer_text_and_loads_nothing(tmp_path):
    q = Question("<b>id</b>", EVIL, (EVIL,), ("e1",), type="<i>t</i>")
    r = row(q, f"{EVIL} [1]", ranking=("e1",),
            citations=(citation(1, "e1", EVIL, f"before {EVIL} after"),))
    html = write_reports(report_for([r], tmp_path), tmp_path / "out")[2].read_text()
    page = Tags()
    page.feed(html)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "code", "svg", "line",
               "text", "circle", "polyline", "rect", "table", "tr", "th", "td", "div", "span", "details",
               "summary", "ul", "li", "br"}
    assert page.tags <= allowed, page.tags - allowed  # no script, img, link, iframe
    assert not any(name in ("src", "href") or name.startswith("on") for name, _ in page.attrs)
    assert "@import" not in html and "url(" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;img" in html
    assert EVIL in "".join(page.text)  # shown to the reader as text


def test_markdown_escapes_pipes_and_newlines(tmp_path):
    q = Question("p", "a | b\nc?", ("x",), ("e1",))
    md = to_markdown(report_for([row(q, "x | y [1]", ranking=("e1",))], tmp_path))
    assert "| a \\| b c? |" in md


def test_compare_deltas_and_flips(tmp_path):
    old_rows = five_rows()
    new_rows = [dict(r) for r in five_rows()]
    new_rows[1].update(passed=True, first_hit_rank=1, ranking=["e2"], latency_ms=5.0)  # q2 fixed, rank 3 -> 1
    new_rows[4].update(first_hit_rank=2, ranking=["x", "e5"])  # q5: evidence into the top 5, still failing
    new_rows[0].update(passed=False)  # q1 broke
    old = report_for(old_rows, tmp_path)
    new = report_for(new_rows, tmp_path)
    old["questions"].append(dict(old_rows[0], id="gone"))
    new["questions"].append(dict(old_rows[0], id="new-one"))
    result = compare(old, new, against="old/report.json")
    metrics = result["metrics"]
    assert metrics["pass_rate"] == {"old": 0.4, "new": 0.4, "delta": 0.0, "verdict": "same"}
    assert metrics["hit@1"]["delta"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["hit@1"]["verdict"] == "better" and metrics["hit@3"]["delta"] == pytest.approx(1 / 3, abs=1e-3)
    assert metrics["latency_p50_ms"]["verdict"] == "same"
    flips = {(f["id"], f["kind"]): f for f in result["flips"]}
    assert set(flips) == {("q1", "pass"), ("q2", "pass"), ("q5", "hit@5")}
    assert flips[("q2", "pass")]["fixed"] and not flips[("q1", "pass")]["fixed"]
    assert (flips[("q5", "hit@5")]["old"], flips[("q5", "hit@5")]["new"], flips[("q5", "hit@5")]["fixed"]) == \
        (None, 2, True)
    assert result["added"] == ["new-one"] and result["removed"] == ["gone"]
    lines = flip_lines(result)
    assert any(line.startswith("q1: pass -> fail") for line in lines)
    assert any(line.startswith("q2: fail -> pass") for line in lines)
    assert any(line.startswith("q5: evidence rank - -> 2 (into top 5)") for line in lines)
    new["compare"] = result
    table = summary_table(new)
    assert "flipped vs old/report.json: 3" in table and "better" in table
    assert "## Flipped against" in to_markdown(new)


def test_compare_direction_for_lower_is_better(tmp_path):
    old = report_for(five_rows(), tmp_path)
    faster = [dict(r, latency_ms=r["latency_ms"] / 2) for r in five_rows()]
    result = compare(old, report_for(faster, tmp_path))
    assert result["metrics"]["latency_p50_ms"] == {"old": 30.0, "new": 15.0, "delta": -15.0, "verdict": "better"}
    assert result["flips"] == []


def test_compare_with_unmeasured_metric(tmp_path):
    old = report_for(five_rows(), tmp_path)
    old["summary"]["citation_support"] = None
    assert compare(old, report_for(five_rows(), tmp_path))["metrics"]["citation_support"]["verdict"] == "n/a"


@pytest.mark.parametrize("content, message", [
    (None, "no such report"),
    ("{oops", "not a readable report.json"),
    ('{"summary": {}}', "no schema_version"),
    ('{"schema_version": 99, "summary": {}, "questions": []}', "schema version 99"),
    ('{"schema_version": 1}', "lacks summary or questions"),
])
def test_load_report_errors(tmp_path, content, message):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AssistantError, match=message):
        load_report(path)


def test_load_report_accepts_its_directory(tmp_path):
    write_reports(report_for(five_rows(), tmp_path), tmp_path / "out")
    assert load_report(tmp_path / "out")["counts"]["questions"] == 5


def test_report_settings_never_hold_credentials():
    from assistant.cli.evaluate import report_settings

    class FakeSettings:
        def model_dump(self, mode="json"):
            return {"top_k": 5, "llm": "openai", "llm_model": "m", "llm_max_tokens": 350,
                    "llm_api_key": "sk-secret", "auth_password": "pw", "auth_username": "me",
                    "chroma_url": "http://user:pw@127.0.0.1:8000", "host": "0.0.0.0", "upload_max_mb": 10}

    kept = report_settings(FakeSettings())
    assert kept == {"top_k": 5, "llm": "openai", "llm_model": "m", "llm_max_tokens": 350,
                    "chroma_url": "http://127.0.0.1:8000"}


# --------------------------------------------------------------------------- short answers and dates

NEW_ROW_KEYS = ("short_answer", "short_answer_em", "short_answer_f1", "answer_words", "question_sentences",
                "as_of", "window")
NEW_METRICS = ("short_answer_em", "short_answer_f1", "answer_words_p50", "answers_with_question")


def dated_rows(short: str = "Ramon Velasquez") -> list[dict]:
    """d1: a short answer asked as of a day with a "last month" window; d2: a plain answer ending in a question."""
    window = TimeWindow(datetime.date(2025, 10, 1), datetime.date(2025, 11, 15), "last month")
    q1 = Question("d1", "Who was named minister last month?", ("Ramón Velásquez",), ("e1",))
    q2 = Question("d2", "What did the minister say?", ("roads",), ("e1",))
    a1 = Answer(question=q1.question, answer="Ramon Velasquez was named minister. [1]", abstained=False,
                short_answer=short, as_of="2025-11-15", window=window)
    a2 = Answer(question=q2.question, answer="He spoke about roads, and why not? [1]", abstained=False)
    return [score_question(q1, Observation(a1, ("e1",), 10.0)), score_question(q2, Observation(a2, ("e1",), 20.0))]


def test_new_metrics_formatted():
    assert fmt("answer_words_p50", 12.5) == "12.5" and fmt_delta("answer_words_p50", -3.0) == "-3.0"
    assert fmt("answers_with_question", 0.5) == "50.0%" and fmt_delta("short_answer_em", 0.25) == "+25.0 pt"
    assert fmt("short_answer_f1", None) == "n/a"


def test_reports_show_short_answers_and_dates(tmp_path):
    report = report_for(dated_rows(), tmp_path)
    # d1 exact (EM 1, F1 1); d2 has accepted answers but no short answer (EM 0, F1 0)
    assert report["summary"]["short_answer_em"] == 0.5 and report["summary"]["short_answer_f1"] == 0.5
    assert report["summary"]["answer_words_p50"] == 6.0  # 5 and 7 words
    assert report["summary"]["answers_with_question"] == 0.5 and report["counts"]["windowed_questions"] == 1
    assert report["metrics"]["answer_words_p50"]["higher_is_better"] is False
    paths = write_reports(report, tmp_path / "out")
    data = json.loads(paths[0].read_text())
    d1 = data["questions"][0]
    assert {k: d1[k] for k in NEW_ROW_KEYS} == {
        "short_answer": "Ramon Velasquez", "short_answer_em": True, "short_answer_f1": 1.0, "answer_words": 5,
        "question_sentences": 0, "as_of": "2025-11-15",
        "window": {"start": "2025-10-01", "end": "2025-11-15", "expression": "last month"}}
    md = paths[1].read_text()
    assert "| answer_words_p50 | 6.0 |" in md and "| answers_with_question | 50.0% |" in md
    assert "| as of 2025-11-15; window 2025-10-01..2025-11-15 (last month) |" in md
    assert "| Ramon Velasquez | Ramon Velasquez was named minister. [1] |" in md
    html = paths[2].read_text()
    assert "<b>Ramon Velasquez</b></div>Ramon Velasquez was named minister. [1]" in html
    assert "as of 2025-11-15; window 2025-10-01..2025-11-15 (last month)" in html
    table = summary_table(report)
    assert "as of asked_at" in table and "time windows: 1 of 2 questions" in table
    assert "answer_words_p50" in table and "short_answer_f1" in table


def test_ignored_dates_are_shown(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("{}\n")
    report = build_report(five_rows(), questions_file=questions, settings={"top_k": 5, "dates": "ignored"},
                          backend="extractive")
    assert "dates ignored" in summary_table(report) and "- dates: dates ignored" in to_markdown(report)


def test_compare_lists_short_answer_flips(tmp_path):
    old = report_for(dated_rows(short="Minister Velasquez"), tmp_path)
    new = report_for(dated_rows(), tmp_path)
    result = compare(old, new, against="old")
    assert result["metrics"]["short_answer_em"] == {"old": 0.0, "new": 0.5, "delta": 0.5, "verdict": "better"}
    # d1's F1 0.5 -> 1 ({minister, velasquez} vs {ramon, velasquez}: P = R = 1/2), d2 0 in both
    assert result["metrics"]["short_answer_f1"] == {"old": 0.25, "new": 0.5, "delta": 0.25, "verdict": "better"}
    assert result["flips"] == [{"id": "d1", "question": "Who was named minister last month?",
                                "kind": "short_answer_em", "old": False, "new": True, "fixed": True,
                                "old_short_answer": "Minister Velasquez", "new_short_answer": "Ramon Velasquez"}]
    line = 'd1: short answer "Minister Velasquez" -> "Ramon Velasquez" (now an exact match): Who was named minister'
    assert flip_lines(result) == [f"{line} last month?"]
    back = compare(new, old)
    assert back["flips"][0]["fixed"] is False and "(no longer an exact match)" in flip_lines(back)[0]
    assert back["metrics"]["answers_with_question"]["verdict"] == "same"


def test_compare_with_a_version_1_report_lacking_the_new_fields(tmp_path):
    """A report written before short answers and dates: it loads, its missing metrics are n/a, no flips."""
    old = report_for(dated_rows(short="Minister Velasquez"), tmp_path)
    old["schema_version"] = 1
    for name in NEW_METRICS:
        del old["summary"][name]
    for r in old["questions"]:
        for key in NEW_ROW_KEYS:
            del r[key]
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = load_report(tmp_path / "old.json")
    new = report_for(dated_rows(), tmp_path)
    result = compare(loaded, new, against="old.json")
    assert result["old_schema_version"] == 1
    for name in NEW_METRICS:
        assert result["metrics"][name] == {"old": None, "new": new["summary"][name], "delta": None,
                                           "verdict": "n/a"}
    assert result["metrics"]["pass_rate"]["verdict"] == "same" and result["flips"] == []
    new["compare"] = result
    assert "n/a" in summary_table(new) and "## Flipped against `old.json`" in to_markdown(new)
    write_reports(new, tmp_path / "out")  # renders with the comparison
