"""Compare the HTML readers on the test pages: the hand-written parser (the reader before trafilatura,
now only the fallback) against the current reader (trafilatura + htmldate, `index.intake.html.html_to_text`).

    python benchmarks/html_readers.py [--json FILE]

Pages and expectations are tests/pages/ and tests/pages/pages.json (invented stories with real pages'
clutter). Per page and reader:
  story kept   share of the story's sentences (index.text.sentences) found in the text
  clutter      how many of the page's listed clutter strings (menus, ads, cookie banners, comments,
               related links, share buttons, newsletter boxes, footers, script/style code) leak into it
  other lines  text lines holding no story sentence (clutter that is not listed, headings, captions,
               datelines: the smaller the better, 0 is not always right)
  title/date/outlet   each one right (y) or not (-), against what the page states
Offline and quick (well under a minute); nothing is written unless --json is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.errors import ArticleError
from index.intake.articles import normalize_date
from index.intake.html import decode_html, html_to_text, legacy_html_to_text
from index.text.sentences import split_sentences

PAGES = ROOT / "tests" / "pages"


def _norm(text: str) -> str:
    return " ".join(text.split())


def before(raw: str) -> tuple[str, dict[str, str]]:
    """What `html_to_text` returned before trafilatura: every visible line, the raw <title>, og meta."""
    lines, meta = legacy_html_to_text(raw)
    return "\n".join(lines), meta


def _date(value: str) -> str:
    try:
        return normalize_date(value)
    except ArticleError:
        return ""


def score(text: str, meta: dict[str, str], spec: dict) -> dict:
    flat = _norm(text)
    paragraphs = [p for item in spec["story"] for p in (item if isinstance(item, list) else [item])]
    sentences = [p[s.start : s.end] for p in paragraphs for s in split_sentences(p)]
    kept = sum(_norm(s) in flat for s in sentences)
    leaked = [c for c in spec["clutter"] if c in flat]
    other = [line for line in text.splitlines() if line.strip()
             and not any(_norm(s) in _norm(line) for s in sentences)]
    return {
        "story_kept": kept / len(sentences),
        "clutter_leaked": len(leaked),
        "clutter_listed": len(spec["clutter"]),
        "other_lines": len(other),
        "title": meta.get("title", "") == spec["title"],
        "date": _date(meta.get("published_at", "")) == spec["published_at"],
        "outlet": meta.get("source", "") == spec["source"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    spec = json.loads((PAGES / "pages.json").read_text(encoding="utf-8"))["pages"]
    rows, seconds = [], {"before": 0.0, "after": 0.0}
    start = time.perf_counter()
    html_to_text("<html><body><p>warm-up</p></body></html>")  # trafilatura's imports, timed apart
    import_s = time.perf_counter() - start
    for name in sorted(spec):
        raw = decode_html((PAGES / name).read_bytes())
        row = {"page": name}
        for label, reader in (("before", before), ("after", html_to_text)):
            start = time.perf_counter()
            text, meta = reader(raw)
            seconds[label] += time.perf_counter() - start
            row[label] = score(text, meta, spec[name])
        rows.append(row)

    def meta_flags(r: dict) -> str:
        return "".join("y" if r[k] else "-" for k in ("title", "date", "outlet"))

    print("| page | story kept (before -> after) | clutter leaked | other lines | title/date/outlet |")
    print("|---|---:|---:|---:|:---:|")
    for row in rows:
        b, a = row["before"], row["after"]
        print(f"| {row['page'].removesuffix('.html')} | {b['story_kept']:.0%} -> {a['story_kept']:.0%} "
              f"| {b['clutter_leaked']}/{b['clutter_listed']} -> {a['clutter_leaked']}/{a['clutter_listed']} "
              f"| {b['other_lines']} -> {a['other_lines']} | {meta_flags(b)} -> {meta_flags(a)} |")
    total = {}
    for label in ("before", "after"):
        rs = [row[label] for row in rows]
        total[label] = {
            "story_kept": sum(r["story_kept"] for r in rs) / len(rs),
            "clutter_leaked": sum(r["clutter_leaked"] for r in rs),
            "clutter_listed": sum(r["clutter_listed"] for r in rs),
            "other_lines": sum(r["other_lines"] for r in rs),
            "meta_right": sum(r[k] for r in rs for k in ("title", "date", "outlet")),
            "ms_per_page": 1000 * seconds[label] / len(rs),
        }
    b, a = total["before"], total["after"]
    print(f"| **all {len(rows)} pages** | {b['story_kept']:.0%} -> {a['story_kept']:.0%} "
          f"| {b['clutter_leaked']}/{b['clutter_listed']} -> {a['clutter_leaked']}/{a['clutter_listed']} "
          f"| {b['other_lines']} -> {a['other_lines']} | {b['meta_right']}/{3 * len(rows)} -> "
          f"{a['meta_right']}/{3 * len(rows)} |")
    print(f"\nms per page: before {b['ms_per_page']:.1f}, after {a['ms_per_page']:.1f} "
          f"(plus {import_s:.2f} s once to import trafilatura)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"pages": rows, "total": total}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
