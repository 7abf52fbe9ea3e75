"""Wire copies: one story republished by ten outlets with small edits gets one group id at index time, an
unrelated story and a follow-up on the same topic do not join it, and retrieval keeps one copy per story."""

from __future__ import annotations

import random

import pytest

from assistant.factory import build_assistant
from index.intake.articles import Article
from index.models.embedding import HashingEmbedding
from index.text.grouping import BAND_KEYS, THRESHOLD, Grouper, Member, signature

STORY = (
    "The regional water board voted on Thursday to build a desalination plant on the northern shore of Lake "
    "Verrin, ending two years of argument over how the valley should cope with longer dry summers. The plant "
    "will draw brackish water from the lake's salt flats and is expected to supply about forty thousand homes "
    "once it opens in three years. Board chair ImeldaOstrova said the vote was the hardest decision of her "
    "term, because the plant will raise household water bills by roughly six percent. Farmers in the lower "
    "valley had pressed for the plant after last year's drought, when wells ran dry across several villages "
    "and the board had to truck water to schools. Environmental groups warned that the salty brine left over "
    "from the process could harm the marsh birds that nest along the shore, and they asked the board to pipe "
    "the brine far out into deeper water. Ostrova said engineers would study that request before any "
    "construction contract is signed. The board will hold two public meetings next month to explain the "
    "costs, and residents can send written comments until the end of the year. The decision follows a "
    "report by the board's own engineers, published in the spring, which found that the valley's "
    "groundwater had fallen to its lowest level in half a century and that two of the four reservoirs "
    "could not be refilled in a normal winter. The report compared the plant with a longer pipeline from "
    "the mountain springs, which would have cost nearly twice as much and taken seven years to finish. "
    "Several board members said they had changed their minds after visiting a similar plant on the coast, "
    "where the operators showed them how the filters are cleaned and how the brine is diluted before it "
    "is released. One member, a retired teacher from the upper valley, voted against the plan and said the "
    "board should first repair the leaking canals that lose a fifth of the water they carry."
)
FOLLOW_UP = (
    "Residents of the Lake Verrin valley packed a school hall on Monday to question the regional water board "
    "about its planned desalination plant. Many asked why bills must rise before the plant produces any "
    "water, and a group of fishermen said the brine pipe would cross their best grounds. Board engineers "
    "showed three possible routes for the pipe and promised a decision by spring. Chair Imelda Ostrova "
    "thanked the crowd and said a second meeting would be held in the lower valley next week."
)
OUTLETS = [f"Outlet {name}" for name in ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Gum", "Hazel", "Ilex", "Juniper"]]
HEADLINES = ["Water board backs desalination plant", "Verrin water board approves desalination plant",
             "Desalination plant for Lake Verrin wins board vote"]
WORDS = ["harbour", "council", "budget", "school", "road", "bridge", "orchard", "festival", "library", "museum", "election", "court", "hospital", "railway", "tram", "market", "river", "forest", "mine", "factory", "theatre", "stadium", "airport", "ferry", "clinic", "union"]


def copy_of(story: str, outlet: str, rng: random.Random) -> str:
    """The story as another outlet runs it: its own dateline and sign-off, one word changed."""
    words = story.split()
    words[rng.randrange(20, len(words))] = rng.choice(["quickly", "also", "then", "now"])
    return f"VERRIN ({outlet}) - " + " ".join(words) + f" Copyright {outlet}, all rights reserved."


def unrelated(i: int, rng: random.Random) -> Article:
    text = " ".join(
        f"The {rng.choice(WORDS)} {rng.choice(WORDS)} plan number {i}-{k} was discussed by the "
        f"{rng.choice(WORDS)} committee on day {rng.randrange(1, 28)}." for k in range(12))
    return Article(id=f"other-{i:03d}", title=f"Local {rng.choice(WORDS)} news {i}", text=text,
                   source=rng.choice(["City Wire", "Hill Times"]), published_at=f"2025-05-0{1 + i % 9}")


def generated_set(seed: int = 7) -> list[Article]:
    rng = random.Random(seed)
    copies = [Article(id=f"copy-{n}", title=HEADLINES[n % len(HEADLINES)], source=outlet,
                      url=f"https://{outlet.split()[1].lower()}.example/verrin-plant", published_at="2025-05-08",
                      text=copy_of(STORY, outlet, rng)) for n, outlet in enumerate(OUTLETS)]
    follow = Article(id="follow-up", title="Residents question water board", source="Outlet Alder",
                     text=FOLLOW_UP, published_at="2025-05-12")
    return [*copies[:5], *(unrelated(i, rng) for i in range(200)), follow, *copies[5:]]


def test_signatures_separate_copies_from_other_stories():
    rng = random.Random(1)
    story = signature(STORY)
    assert story.similarity(signature(copy_of(STORY, "Outlet Elm", rng))) >= THRESHOLD
    assert story.similarity(signature(FOLLOW_UP)) < 0.2
    assert signature("Too short to compare.") is None


def test_the_same_boilerplate_under_other_headlines_is_not_a_copy():
    """Scraped pages that kept only a site's ad survey: the same words, three different stories."""
    junk = ("How relevant is this ad to you? Video player was slow to load content. Video content never "
            "loaded. Ad froze or did not finish loading. Video content did not start after ad. Audio on ad "
            "was too loud. Other issues. Thank you for your feedback, it helps us improve the site.")
    stored = Member("p1", "p1", signature(junk), "Ferry strike ends after three days")
    groups = Grouper(lambda bands: [stored]).assign([
        ("p2", signature(junk), "New stadium roof opens to the public"),
        ("p3", signature(junk), "Ferry strike ends as crews return"),
    ])
    assert groups == ["p2", "p1"]


def test_the_grouper_joins_stored_and_same_run_copies():
    rng = random.Random(2)
    stored = Member("original", "original", signature(STORY), "Water board backs desalination plant")
    grouper = Grouper(lambda bands: [stored], exclude=[])
    groups = grouper.assign([("a", signature(copy_of(STORY, "Outlet Fir", rng)), "Board backs Verrin plant"),
                             ("b", signature(FOLLOW_UP), "Residents question board"),
                             ("c", signature(FOLLOW_UP + " Copyright Outlet Gum."), "")])
    assert groups == ["original", "b", "b"]
    rewritten = Grouper(lambda bands: [stored], exclude=["original"]).assign([("x", signature(STORY), "")])
    assert rewritten == ["x"], "the stored version of an article being rewritten is not a candidate"


@pytest.fixture
def indexed(settings):
    assistant = build_assistant(settings, embed_model=HashingEmbedding())
    summary = assistant.indexer.index_items(generated_set())
    assert summary.added == 211
    return assistant


def test_copies_get_one_group_at_index_time_and_others_do_not(indexed):
    groups = {c.article_id: c.group_id for c in indexed.store.get(indexed.store.all_chunk_ids())}
    assert {groups[f"copy-{n}"] for n in range(10)} == {"copy-0"}
    assert groups["follow-up"] == "follow-up"
    assert sum(g == "copy-0" for g in groups.values()) == 10
    members = indexed.store.group_members(["copy-0"])["copy-0"]
    assert {m.source for m in members} == set(OUTLETS)


def test_top_five_passages_hold_at_most_one_copy(indexed, settings):
    question = "Why did the water board vote for a desalination plant on Lake Verrin?"
    passages = indexed.retriever.search(question, top_k=5).passages
    copies = [p.chunk.article_id for p in passages if p.chunk.article_id.startswith("copy-")]
    assert len({*copies}) == 1, [p.chunk.article_id for p in passages]
    assert "follow-up" in {p.chunk.article_id for p in passages}

    ungrouped = build_assistant(settings.model_copy(update={"data_dir": settings.data_dir.parent / "flat",
                                                            "group_copies": False}),
                                embed_model=HashingEmbedding())
    ungrouped.indexer.index_items(generated_set())
    flat = ungrouped.retriever.search(question, top_k=5).passages
    assert len({p.chunk.article_id for p in flat if p.chunk.article_id.startswith("copy-")}) >= 3, \
        "without grouping the copies crowd the top five (else this test shows nothing)"


def test_reindexing_keeps_groups_and_a_rewritten_copy_regroups(indexed):
    again = indexed.indexer.index_items(generated_set())
    assert again.unchanged == 211 and again.added == again.updated == 0
    changed = Article(id="copy-3", title="Residents question the water board", source="Outlet Dogwood",
                      text=FOLLOW_UP)
    assert indexed.indexer.index_items([changed]).updated == 1
    groups = {c.article_id: c.group_id for c in indexed.store.get(indexed.store.all_chunk_ids())}
    assert groups["copy-3"] == "follow-up"
    assert {groups[f"copy-{n}"] for n in range(10) if n != 3} == {"copy-0"}


def test_an_answer_names_the_other_outlets_that_ran_the_story(indexed):
    answer = indexed.ask("By how much will the desalination plant raise household water bills?", as_of="2025-05-20")
    cited = [c for c in answer.citations if c.article_id.startswith("copy-")]
    assert cited, (answer.answer, [c.article_id for c in answer.citations])
    for c in cited:
        others = {o["source"] for o in c.also_published_by}
        assert others == set(OUTLETS) - {c.source}
        assert all(o["url"].startswith("https://") for o in c.also_published_by)
    assert all(not c.also_published_by for c in answer.citations if not c.article_id.startswith("copy-"))


def test_evaluation_counts_the_kept_copy_as_the_evidence_it_copies(indexed):
    """A question set names one copy; retrieval keeps another: the retrieval and citation scores treat the
    kept copy as the evidence (the same story text), and an unrelated article still is not."""
    from assistant.evaluation.questions import Question
    from assistant.evaluation.runner import observe
    from assistant.evaluation.scoring import score_question

    question = Question(id="q", question="By how much will the desalination plant raise household water bills?",
                        answers=("six percent",), evidence_ids=("copy-7",), asked_at="2025-05-20")
    obs = observe(indexed, question, top_k=5)
    kept = {c.article_id for c in obs.answer.citations if c.article_id.startswith("copy-")}
    assert kept and "copy-7" not in kept, "the set names a copy other than the one retrieval kept"
    assert obs.ranking[0] == "copy-7" and set(obs.same_story) >= kept
    row = score_question(question, obs)
    assert all(c["in_evidence"] for c in row["citations"] if c["article_id"] in kept)

    elsewhere = Question(id="r", question=question.question, evidence_ids=("other-004",), asked_at="2025-05-20")
    assert not observe(indexed, elsewhere, top_k=5).same_story


def test_copies_are_found_by_the_lexical_sides_keys_without_a_chroma_metadata_query(settings):
    """Grouping looks its candidates and members up by key on the lexical side, then reads them from Chroma
    by id: a Chroma query on the band or group fields scans every record (20 s at a million chunks). A second data dir on the
    same Chroma, whose lexical side is synced from Chroma's records, finds the same copies."""
    from assistant.factory import build_chroma_client, build_indexer, build_store
    from tests.chroma_seam import ChromaSeam

    def by_id_only(real, *args, **kwargs):
        where = str(kwargs.get("where"))
        assert "mh0" not in where and "group" not in where, f"a Chroma metadata query: {where}"
        return real(*args, **kwargs)

    seam = ChromaSeam(build_chroma_client(settings), overrides={"get": by_id_only})
    store = build_store(settings, client=seam)
    indexer = build_indexer(settings, store, HashingEmbedding())
    articles = generated_set()
    indexer.index_items(articles[:20])  # copy-0 to copy-4 and 15 other stories
    indexer.index_items([a for a in articles if a.id == "copy-7"])  # a separate run: stored candidates now
    groups = {c.article_id: c.group_id for c in store.get(store.all_chunk_ids())}
    copies = {f"copy-{n}" for n in (0, 1, 2, 3, 4, 7)}
    assert {groups[a] for a in copies} == {"copy-0"} and sum(g == "copy-0" for g in groups.values()) == 6
    assert {m.article_id for m in store.group_members(["copy-0"])["copy-0"]} == copies

    other_dir = settings.model_copy(update={"data_dir": settings.data_dir.parent / "second-machine"})
    synced = build_store(other_dir, client=seam)  # same collection, empty lexical side: synced on first read
    assert {m.article_id for m in synced.group_members(["copy-0"])["copy-0"]} == copies
    ids = [c.article_id for c in synced.group_candidates(
        {key: [value] for key, value in zip(BAND_KEYS, signature(STORY).bands)})]
    assert "copy-0" in ids and "copy-7" in ids
