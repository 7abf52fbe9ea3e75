"""The steps after fusion, as llama-index node postprocessors: the recency prior, the date window and the
per-article cap. Each reads what it needs from the `NewsQuery` (`assistant.retrieval.hybrid`) it is given;
given a plain `QueryBundle` (llama-index code) each does nothing but the cap. None keeps anything between
calls or changes what it is given: each returns a new list (rescored nodes are new `NodeWithScore`s), so the
same nodes and query can be passed again and give the same result.

Any other `BaseNodePostprocessor` can run between the date window and the cap: `ASSISTANT_POSTPROCESSORS`
names factories as `module:callable` (see `assistant.factory.build_postprocessors`). It receives every
fused candidate, highest first, with the fused score, and must return them highest first.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle
from pydantic import Field

from assistant.retrieval import defaults
from index.storage.filters import SearchFilters, passes


def recency_prior(days: list[int], as_of: dt.date, scale_days: float) -> list[float]:
    """exp(-age / scale) per passage (age in days before `as_of`, never negative); undated passages
    (day 0) get the mean of the dated ones, so they are neither favoured nor pushed down."""
    ref = as_of.toordinal()
    values: list[float | None] = []
    for day in days:
        try:
            ordinal = dt.date(day // 10000, day // 100 % 100, day % 100).toordinal() if day else None
        except ValueError:
            ordinal = None
        values.append(None if ordinal is None else math.exp(-max(ref - ordinal, 0) / scale_days))
    dated = [v for v in values if v is not None]
    neutral = sum(dated) / len(dated) if dated else 0.0
    return [neutral if v is None else v for v in values]


def _ranked(nodes: list[NodeWithScore]) -> list[NodeWithScore]:
    return sorted(nodes, key=lambda n: (-(n.score or 0.0), n.node.node_id))


class RecencyPrior(BaseNodePostprocessor):
    """When the query carries `recency_as_of` (an as-of day and no time expression): score / best score +
    weight * exp(-age / scale_days), so that among comparable matches the newer one wins."""

    weight: float = Field(defaults.RECENCY_WEIGHT,
                          description="Weight of the prior next to the normalised fused score.")
    scale_days: float = Field(defaults.RECENCY_DAYS,
                              description="Age (days before the as-of day) at which the prior is 1/e.")

    @classmethod
    def class_name(cls) -> str:
        return "RecencyPrior"

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        as_of = getattr(query_bundle, "recency_as_of", None)
        if as_of is None or self.weight <= 0 or not nodes:
            return nodes
        top = max(n.score or 0.0 for n in nodes) or 1.0
        priors = recency_prior([int(n.node.metadata.get("published_day") or 0) for n in nodes], as_of,
                               self.scale_days)
        return _ranked([NodeWithScore(node=n.node, score=(n.score or 0.0) / top + self.weight * p)
                        for n, p in zip(nodes, priors)])


class DateWindow(BaseNodePostprocessor):
    """Drops nodes outside the query's filters (outlets, the user's date range, the question's window and
    as-of day). The searches already filter; this holds the bound for nodes a configured postprocessor or
    another retriever brings in."""

    @classmethod
    def class_name(cls) -> str:
        return "DateWindow"

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        filters: SearchFilters | None = getattr(query_bundle, "filters", None)
        if not filters:
            return nodes
        return [n for n in nodes if passes(n.node.metadata, filters)]


class PerArticleCap(BaseNodePostprocessor):
    """The top-k with at most `max_per_article` passages of one article, so that a long article cannot
    crowd out the others, and passages of one article only per group of wire copies (`group` metadata,
    `index.text.grouping`): the best-ranked copy stands for the story (k: the query's `top_k`, else `top_k`)."""

    max_per_article: int = Field(defaults.MAX_PER_ARTICLE, ge=1)
    top_k: int = Field(defaults.TOP_K, ge=1)

    @classmethod
    def class_name(cls) -> str:
        return "PerArticleCap"

    def _postprocess_nodes(self, nodes: list[NodeWithScore],
                           query_bundle: QueryBundle | None = None) -> list[NodeWithScore]:
        top_k = int(getattr(query_bundle, "top_k", self.top_k))
        kept: list[NodeWithScore] = []
        per_article: dict[Any, int] = {}
        member_of_group: dict[Any, Any] = {}
        for node in nodes:
            article = node.node.metadata.get("article_id")
            group = node.node.metadata.get("group") or article
            if member_of_group.setdefault(group, article) != article:
                continue  # another copy of a story already in the list
            if per_article.get(article, 0) >= self.max_per_article:
                continue
            per_article[article] = per_article.get(article, 0) + 1
            kept.append(node)
            if len(kept) == top_k:
                break
        return kept
