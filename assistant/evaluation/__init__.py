"""Evaluation of the assistant against a question set (`assistant eval`).

questions.py reads and validates the JSONL question set; runner.py asks every question through the same
`Assistant.ask` path as `assistant ask`; metrics.py holds the pure metric functions and scoring.py applies
them to per-question rows and a summary; report.py writes report.json / report.md / report.html and the
terminal table; compare.py diffs two reports. The CLI subcommand is `assistant/cli/evaluate.py`. The report
schema is documented in docs/eval-report.md.
"""
