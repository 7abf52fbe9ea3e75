"""`assistant eval --pages-only`: evaluate on what a user's archive holds, the full web pages only.

The RealTime QA sets (`../shared/datasets/*/`) give each question a short digest of its evidence, an
article of its own with id `ev-<question id>`, beside the web pages saved for that week. No user's archive
holds such digests, so in this mode they are left out of the index (those given with `--articles` are not
indexed, those already indexed are removed first) and every question's `evidence_ids` is emptied:
retrieval is not scored (no evidence id names a page), answers and citations are. This module only filters;
it does not index, ask or score anything itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.evaluation.questions import Question

if TYPE_CHECKING:
    from assistant.service import Assistant

DIGEST_PREFIX = "ev-"  # article id prefix of the evidence digests: `ev-<question id>`


def is_digest(article_id: str) -> bool:
    return article_id.startswith(DIGEST_PREFIX)


def leave_out_digests(items: Iterable[Any]) -> tuple[list[Any], int]:
    """The articles (and load failures) read from `--articles`, without the digests; and how many those were."""
    kept: list[Any] = []
    left_out = 0
    for item in items:
        article_id = getattr(item, "id", None)  # a LoadFailure has none
        if isinstance(article_id, str) and is_digest(article_id):
            left_out += 1
        else:
            kept.append(item)
    return kept, left_out


def remove_digests(assistant: Assistant, on_wait: Callable[[str], None] | None = None) -> int:
    """Remove every digest the index holds; returns how many were removed."""
    digests = sorted(a for a in assistant.store.article_ids() if is_digest(a))
    if not digests:
        return 0
    return len(assistant.remove(digests, on_wait=on_wait))


def without_evidence(questions: Sequence[Question]) -> list[Question]:
    """The questions with their `evidence_ids` emptied (retrieval is then not scored)."""
    return [replace(q, evidence_ids=()) for q in questions]


def evidence_only(questions: Sequence[Question]) -> list[str]:
    """Ids of answerable questions scored by their evidence alone: with the evidence gone nothing scores them."""
    return [q.id for q in questions if not q.unanswerable and not q.answers and q.evidence_ids]
