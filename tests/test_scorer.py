"""The learned answer scorer: its file, its features, and how the engine uses it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from index.reading import LOOKS_BACK, read_sentence
from qa.answer_types import answer_tokens
from qa.conversation import build_query
from qa.engine import RULES_MIN_CONFIDENCE
from qa.extract import ArticleTexts
from qa.scorer import (
    DOMAINS,
    FEATURES,
    INELIGIBLE,
    MODEL_FILE,
    NEARNESS,
    WIDE,
    AnswerScorer,
    Forest,
    SentenceCandidate,
    _support,
    candidates,
    domain_of,
    features,
    packaged_scorer,
)
from qa.types import Message
from qa.word_vectors import WordVectors
from tests.conftest import SEEDS, build, engine_for, write_stories


def stumps(weights: dict[str, float], cut: float = 0.5) -> Forest:
    """Trees of one split each: each named feature above ``cut`` adds its weight."""
    tree = lambda f: ([FEATURES.index(f), 0, 0], [cut, 0.0, 0.0], [1, 1, 2], [2, 1, 2],  # noqa: E731
                      [False, True, True], [0.0, 0.0, weights[f]])
    parts = [tree(f) for f in weights] or [([0, 0, 0], [0.0] * 3, [1, 1, 2], [2, 1, 2],
                                            [True] * 3, [0.0] * 3)]
    return Forest(*(np.array([p[i] for p in parts]) for i in range(6)), depth=1,
                  baseline=0.0)


def scorer_for(embedder_name: str, weights: dict[str, float], threshold: float = 0.3,
               cut: float = 0.5, ranker: Forest | None = None) -> AnswerScorer:
    """An honest scorer of stumps (``stumps``; the same trees rank and score unless a
    ``ranker`` is given); the calibration maps log-odds -1..3 linearly onto 0..1."""
    forest = stumps(weights, cut)
    line = (np.array([-1.0, 3.0]), np.array([0.0, 1.0]))
    return AnswerScorer(embedder_name, dict.fromkeys(DOMAINS, ranker or forest),
                        dict.fromkeys(DOMAINS, forest), {d: line for d in DOMAINS},
                        dict.fromkeys(DOMAINS, threshold), "test")


def test_a_saved_scorer_reads_back_the_same(tmp_path):
    scorer = replace(scorer_for("m", {"dense": 2.0, "lexical": 1.0}, 0.2),
                     offset={"dated": {"lacks_person": -0.5}})
    path = tmp_path / "s.json"
    path.write_text(json.dumps(scorer.to_dict()))
    again = AnswerScorer.load(path)
    assert again.offset == scorer.offset
    rows = np.random.default_rng(1).normal(size=(5, len(FEATURES)))
    assert np.array_equal(again.probability(rows), scorer.probability(rows))
    assert again.min_confidence == {"dated": 0.2, "undated": 0.2} and again.embedder == "m"


def test_a_file_with_an_offset_on_an_unknown_feature_is_refused(tmp_path):
    data = scorer_for("m", {}).to_dict()
    data["offset"] = {"dated": {"no_such_feature": 1.0}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not an answer-scorer"):
        AnswerScorer.load(path)


def test_a_file_for_other_features_is_refused(tmp_path):
    data = scorer_for("m", {}).to_dict()
    data["features"] = data["features"][:-1]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="not an answer-scorer"):
        AnswerScorer.load(path)


def test_an_offset_moves_the_confidence_not_the_pick():
    plain = scorer_for("m", {"dense": 1.0})
    offset = replace(plain, offset={"dated": {"lacks_person": -1.0}})
    rows = np.zeros((3, len(FEATURES)))
    rows[:, FEATURES.index("recency")] = 0.5  # news
    rows[:, FEATURES.index("dense")] = [0.9, 0.9, 0.1]
    rows[[0, 2], FEATURES.index("lacks_person")] = 1  # "who ...?" and it names no one
    assert offset.raw(rows)[0] == plain.raw(rows)[0] - 1.0
    assert offset.raw(rows)[1] == plain.raw(rows)[1]
    assert np.array_equal(offset.rank(rows), plain.rank(rows))  # the ranker has none
    # A sentence unrelated to the question stays ineligible, offset or not.
    assert offset.raw(rows)[2] == INELIGIBLE
    # Reference text has no offset here: its rows score as before.
    rows[:, FEATURES.index("recency")] = 0.0
    assert np.array_equal(offset.raw(rows), plain.raw(rows))


def test_the_offsets_are_fitted_to_the_trees_log_odds():
    from bench.scorer_train import offsets

    rng = np.random.default_rng(3)
    raw = rng.normal(size=4000)
    flag = rng.random(4000) < 0.3
    # The flagged ones are right as often as log-odds 1.5 lower say, and every row as
    # often as 0.8 higher: that is the trees' miscalibration, not the flag's.
    right = (rng.random(4000) < 1 / (1 + np.exp(-(raw + 0.8 - 1.5 * flag)))).astype(float)
    (weight,) = offsets(raw, flag[:, None].astype(float), right)
    assert -1.8 < weight < -1.2
    assert len(offsets(raw, np.zeros((4000, 0)), right)) == 0


def test_the_trees_score_and_the_calibration_maps():
    scorer = scorer_for("m", {"dense": 1.0, "lexical": 2.0})
    rows = np.zeros((4, len(FEATURES)))
    rows[:, FEATURES.index("dense")] = [0.2, 0.9, 0.2, 0.9]  # 0.2: related, under the cut
    rows[:, FEATURES.index("lexical")] = [0.0, 0.0, 0.9, 0.9]
    assert scorer.raw(rows).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert scorer.probability(rows).tolist() == [0.25, 0.5, 0.75, 1.0]


def test_the_ranker_picks_and_the_other_trees_say_how_likely_it_is_right():
    # The ranker prefers the lexical match; the confidence trees trust dense similarity.
    scorer = scorer_for("m", {"dense": 2.0}, ranker=stumps({"lexical": 1.0}))
    rows = np.zeros((3, len(FEATURES)))
    rows[:, FEATURES.index("dense")] = [0.9, 0.0, 0.0]
    rows[:, FEATURES.index("lexical")] = [0.0, 0.9, 0.0]
    best, probability = scorer.choose(rows)
    assert best == 1 and probability == 0.25  # log-odds 0 on the map from -1..3
    assert scorer.probability(rows)[0] == 0.75  # the likelier sentence was not picked


@pytest.fixture
def story_index(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    build(tmp_path / "ix", hashing, source)
    return tmp_path / "ix"


def test_features_describe_every_candidate(story_index, hashing):
    engine = engine_for(story_index, hashing)
    ranked = engine.evidence("How many residents were evacuated?")
    cands = candidates(ranked, ArticleTexts(engine.index.store.article_text))
    rows = features("How many residents were evacuated?", cands, ranked)
    assert rows.shape == (len(cands), len(FEATURES)) and len(cands) > 1
    assert np.isfinite(rows).all()
    text = engine.index.store.article_text(cands[0].article_rowid)
    for c in cands:  # each candidate is its article's text at its offsets
        assert engine.index.store.article_text(c.article_rowid)[c.start:c.end] == c.text
    assert text
    kind = rows[:, FEATURES.index("kind_number")]
    assert (kind == 1).all()
    holds = rows[:, FEATURES.index("holds_number")]
    with_number = [any(ch.isdigit() for ch in c.text) for c in cands]
    assert holds[np.array(with_number)].all()


def test_a_name_the_top_passages_share_is_better_supported():
    question = "Which team won the final this week?"
    said = ["The Harbour Rovers won the final on Sunday.",       # passage 0
            "Fans of the Rovers filled the square.",             # passage 1
            "The Rovers' coach, Ana Lind, thanked the city.",    # passage 2
            "A storm hit Port Ellis on Sunday."]                 # passage 2
    cands = [SentenceCandidate(1, i * 100, i * 100 + len(t), t, 0.5, 0.5, 0.5, rank,
                               read_sentence(t))
             for i, (t, rank) in enumerate(zip(said, [0, 1, 2, 2], strict=True))]
    held = [answer_tokens(c.text, question) for c in cands]
    support, share, found, wide, _ = _support(held, cands, [], None)
    assert support[0] == 1.0  # "Rovers" is in all three passages
    assert support[3] == pytest.approx(1 / 3)  # "Port Ellis" only in one
    assert share[0] == 0.75 and found[1] == 1
    assert not wide.any()  # no ranked passages given: none votes


def test_the_passages_that_name_a_possible_answer_back_it(tmp_path, hashing):
    # Three stories name the Rovers as the winners, one names a storm in Port Ellis.
    stories = [{"id": f"final-{i}", "title": "The Cup Final", "published": "2024-05-0" + str(i),
                "text": f"The Harbour Rovers won the cup final. {detail}"}
               for i, detail in enumerate(["Fans cheered.", "The Rovers' coach was glad.",
                                           "Rovers fans filled the square."], start=1)]
    stories.append({"id": "storm", "title": "Storm", "published": "2024-05-04",
                    "text": "A storm hit Port Ellis during the cup final."})
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src", stories))
    engine = engine_for(tmp_path / "ix", hashing)
    question = "Which team won the cup final?"
    ranked = engine.evidence(question)
    cands = candidates(ranked, ArticleTexts(engine.index.store.article_text))
    rows = features(question, cands, ranked)
    wide = rows[:, FEATURES.index("support_wide")]
    articles = rows[:, FEATURES.index("support_articles")]
    rovers = [i for i, c in enumerate(cands) if "Rovers won" in c.text]
    storm = [i for i, c in enumerate(cands) if "Port Ellis" in c.text]
    assert rovers and storm
    assert min(wide[rovers]) > max(wide[storm])
    assert min(articles[rovers]) == pytest.approx(np.log1p(3))  # three articles
    assert max(articles[storm]) == pytest.approx(np.log1p(1))
    # Four stories give fewer than WIDE passages: a share of WIDE, not of those found.
    assert len(ranked) < WIDE and wide.max() <= len(ranked) / WIDE


@pytest.mark.parametrize("sentence, back", [
    ("In August, the ministry evacuated 500 citizens.", True),
    ("Earlier that month, Moscow evacuated two hundred.", True),
    ("In 2019 the plant closed.", True),
    ("The planes will carry 380 nationals home.", False),
    ("On Thursday the army resumed flights.", False),
    ("In Maryland, the vote was close.", False),
    ("By 2030, the plan will be finished.", False),
])
def test_a_sentence_about_an_earlier_time_is_marked(sentence, back):
    assert read_sentence(sentence).has(LOOKS_BACK) is back


def by_sentence(name: str, question: str, cands, ranked, said: list[str]) -> list[float]:
    """One feature's value for each of the ``said`` sentences, in their order."""
    column = features(question, cands, ranked)[:, FEATURES.index(name)]
    value = dict(zip((c.text for c in cands), column, strict=True))
    return [float(value[t]) for t in said]


def one_story(tmp_path, hashing, said: list[str], question: str,
              published: str | None = "2021-11-18"):
    """The candidate sentences and ranked passages for a question over one story told in
    these sentences (``published`` None: an undated one, as reference text is)."""
    story = {"id": "story", "title": "Story", "text": " ".join(said)}
    if published:
        story["published"] = published
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src", [story]))
    engine = engine_for(tmp_path / "ix", hashing)
    ranked = engine.evidence(question)
    return candidates(ranked, ArticleTexts(engine.index.store.article_text)), ranked


def test_a_number_followed_by_what_the_question_counts_is_marked(tmp_path, hashing):
    said = ["The planes will carry 380 Russian and Afghan nationals home.",
            "The ministry said on Aug. 15 that the evacuation went well.",
            "One or two hundred Russians had left by bus.",
            "On Monday 500 Russians were evacuated by plane."]  # a weekday is no day of a month
    question = "How many Russians were evacuated this time?"
    cands, ranked = one_story(tmp_path, hashing, said, question)
    assert by_sentence("counted", question, cands, ranked, said) == [1.0, 0.0, 1.0, 1.0]
    assert (features(question, cands, ranked)[:, FEATURES.index("this_time")] == 1).all()
    # None of these numbers counts what this question counts.
    unnamed = features("How many tickets were sold?", cands, ranked)
    assert not unnamed[:, FEATURES.index("counted")].any()


def test_a_name_beside_what_the_question_asks_about_is_marked(tmp_path, hashing):
    said = ["The Taliban leader Hibatullah Akhundzada stayed in Kandahar.",
            "The Taliban is a group that Russia bans.",
            "Their leader spoke to the press on Friday."]
    question = "What is the name of the Taliban leader?"
    cands, ranked = one_story(tmp_path, hashing, said, question)
    # "Taliban" is asked about, so it names no answer; "Friday" is not beside "leader".
    assert by_sentence("named", question, cands, ranked, said) == [1.0, 0.0, 0.0]


def test_a_question_for_a_person_marks_the_sentences_naming_none(tmp_path, hashing):
    said = ["The Russian Air Force's Ilyushin Il-76 aircraft at Kabul airport.",
            "The Taliban named Mullah Hasan Akhund to lead the government.",
            "President Vladimir Putin spoke of the Taliban on Friday."]
    question = "What is the name of the Taliban leader?"
    cands, ranked = one_story(tmp_path, hashing, said, question)
    # Capitalised words are no person: a known given name ("Hasan", "Vladimir") before
    # another is.
    assert by_sentence("holds_person", question, cands, ranked, said) == [0.0, 1.0, 1.0]
    assert by_sentence("lacks_person", question, cands, ranked, said) == [1.0, 0.0, 0.0]
    # A question that asks for no person marks none.
    other = features("Where did the aircraft land?", cands, ranked)
    assert not other[:, [FEATURES.index("holds_person"), FEATURES.index("lacks_person")]].any()


def test_how_much_of_the_question_a_sentence_its_neighbours_and_the_passages_hold(
        tmp_path, hashing):
    said = ["The Taliban seized power in Kabul.",
            "Their government is not recognised.",
            "Flights left the airport on Friday."]
    question = "Who leads the Taliban government in Kabul?"  # terms: lead taliban govern kabul
    cands, ranked = one_story(tmp_path, hashing, said, question)
    rows = features(question, cands, ranked)
    by_text = {c.text: rows[i] for i, c in enumerate(cands)}
    share = {t: by_text[t][FEATURES.index("asked_share")] for t in said}
    window = {t: by_text[t][FEATURES.index("window_share")] for t in said}
    assert share == {said[0]: 0.5, said[1]: 0.25, said[2]: 0.0}
    # Each sentence with those just before and after it.
    assert window == {said[0]: 0.75, said[1]: 0.75, said[2]: 0.25}
    # "leads" is in no passage: three of the four terms are covered, for every candidate.
    assert (rows[:, FEATURES.index("covered")] == 0.75).all()


def test_a_sentence_unrelated_to_the_question_cannot_be_the_answer():
    scorer = scorer_for("m", {"support_wide": 3.0})  # backed by every top passage
    rows = np.zeros((3, len(FEATURES)))
    rows[:, FEATURES.index("support_wide")] = 1.0
    rows[:, FEATURES.index("dense")] = [0.05, 0.3, 0.05]
    rows[:, FEATURES.index("lexical")] = [0.0, 0.0, 0.2]
    # No shared term and barely similar: out; similar, or sharing a term: in.
    assert scorer.probability(rows)[0] == 0.0
    assert (scorer.probability(rows)[1:] > 0).all()


def test_for_this_time_a_sentence_about_an_earlier_time_ranks_last():
    scorer = scorer_for("m", {"dense": 2.0})
    rows = np.zeros((3, len(FEATURES)))
    rows[:, FEATURES.index("this_time")] = 1
    rows[:, FEATURES.index("lexical")] = 0.1  # each shares a term with the question
    rows[:, FEATURES.index("dense")] = [0.9, 0.0, 0.9]
    rows[0, FEATURES.index("looks_back")] = 1  # "In August, ... evacuated 500"
    rows[2, FEATURES.index("lacks_number")] = 1
    rank = scorer.rank(rows)
    assert rank[1] > rank[0] > rank[2] == INELIGIBLE
    # Only the pick is demoted, not its confidence: were it the only candidate left.
    assert scorer.raw(rows)[0] == 2.0 and scorer.choose(rows)[0] == 1
    rows[:, FEATURES.index("this_time")] = 0  # a question without "this time"
    assert scorer.choose(rows)[0] == 0


def test_the_engine_answers_with_the_scorer_pick_and_probability(story_index, hashing):
    # A scorer that only likes sentences with a number: the answer must hold one, and its
    # confidence is that sentence's calibrated probability.
    scorer = scorer_for(hashing.name, {"holds_number": 2.0, "dense": 0.5}, threshold=0.1)
    engine = engine_for(story_index, hashing, min_confidence=None)
    engine.scorer = scorer
    answer = engine.answer([Message("user", "How many residents were evacuated?")])
    assert answer.grounded and any(ch.isdigit() for ch in answer.citations[0].quote)
    assert 0.1 <= answer.confidence <= 1.0
    assert engine.thresholds == {"dated": 0.1, "undated": 0.1}
    # Below the scorer's own threshold: "I don't know", the passages still returned.
    engine.scorer = replace(scorer, min_confidence=dict.fromkeys(DOMAINS, 0.99))
    abstained = engine.answer([Message("user", "How many residents were evacuated?")])
    assert not abstained.grounded and abstained.passages
    assert abstained.reason == "low_confidence"


def test_another_model_keeps_the_hand_set_rules(story_index, hashing):
    engine = engine_for(story_index, hashing, min_confidence=None)
    engine.scorer = scorer_for("some-other-model", {"dense": 1.0})
    assert not engine._learned(engine_query("How many residents were evacuated?"))
    assert engine.thresholds == {"any": RULES_MIN_CONFIDENCE}


def engine_query(question: str):
    return build_query([Message("user", question)], 1000)


@pytest.mark.skipif(not MODEL_FILE.exists(), reason="no packaged scorer")
def test_the_packaged_scorer_loads():
    scorer = packaged_scorer()
    assert scorer is not None and scorer.embedder == "all-MiniLM-L6-v2"
    assert set(scorer.min_confidence) == set(DOMAINS)
    assert all(0.0 < v < 0.5 for v in scorer.min_confidence.values())
    for xs, ys in scorer.calibration.values():
        assert np.all(np.diff(xs) >= 0) and np.all(np.diff(ys) >= 0)


def test_the_domain_is_read_from_the_rows():
    rows = np.zeros((3, len(FEATURES)))
    assert domain_of(rows) == "undated"
    rows[1, FEATURES.index("recency")] = 0.2
    assert domain_of(rows) == "dated"


@pytest.fixture(scope="module")
def seed_engine(tmp_path_factory, real_model):
    index_dir = tmp_path_factory.mktemp("seed") / "ix"
    build(index_dir, real_model, SEEDS)
    engine = engine_for(index_dir, real_model, min_confidence=None)
    yield engine
    engine.close()


@pytest.mark.model
@pytest.mark.skipif(not MODEL_FILE.exists(), reason="no packaged scorer")
@pytest.mark.parametrize("question", [
    "How many people died at the Kabul airport?",  # the article gives no number
    "What is the name of the Taliban leader?",  # nor any name
    "What is the capital of France?",
])
def test_the_scorer_does_not_vouch_for_what_the_article_does_not_say(seed_engine, question):
    answer = seed_engine.answer([Message("user", question)])
    assert not answer.grounded or answer.confidence < 0.2, answer


@pytest.mark.model
@pytest.mark.skipif(not MODEL_FILE.exists(), reason="no packaged scorer")
def test_the_scorer_answers_with_the_sentence_that_dates_the_seizure_of_power(seed_engine):
    # The article dates it once ("its Aug. 15 seizure of power in Kabul"); the other
    # sentence about it says "this summer".
    answer = seed_engine.answer([Message("user", "When did the Taliban take power?")])
    assert answer.grounded and "Aug. 15" in answer.citations[0].quote, answer


@pytest.mark.model
@pytest.mark.skipif(not MODEL_FILE.exists(), reason="no packaged scorer")
def test_the_scorer_answers_this_time_with_this_evacuation(seed_engine):
    # "This time" is the 380 nationals of the story's news, not the 500 citizens "In
    # August" nor the "one or two hundred" earlier that month.
    answer = seed_engine.answer([Message("user", "How many Russians were evacuated this time?")])
    assert answer.grounded and "380" in answer.citations[0].quote, answer


def test_a_sentence_without_the_number_asked_for_cannot_be_the_answer():
    rows = np.zeros((3, len(FEATURES)))
    rows[0, FEATURES.index("lacks_number")] = 1  # an echo of "how many ...", no number
    rows[1, FEATURES.index("lacks_date")] = 1  # "when" is answered without dates too
    scorer = scorer_for("m", {"dense": 2.0})
    rows[:, FEATURES.index("lexical")] = 0.1  # each shares a term with the question
    rows[:, FEATURES.index("dense")] = [0.9, 0.9, 0.1]
    probability = scorer.probability(rows)
    assert probability[0] == 0.0 and probability[1] > probability[2] > 0
    assert scorer.choose(rows) == (1, probability[1])


def test_calibration_error_and_the_confident_half():
    from bench.calibration import confident_half_precision, ece

    # 0.85 said, 8 of 10 right: off by 0.05; 0.9 said, none right: off by 0.9.
    assert ece([0.85] * 10, [True] * 8 + [False] * 2) == pytest.approx(0.05)
    assert ece([0.9, 0.9], [False, False]) == pytest.approx(0.9)
    assert confident_half_precision([0.9, 0.1, 0.8, 0.2], [True, False, False, True]) == 0.5
    assert confident_half_precision([0.9, 0.1, 0.8, 0.2], [True, False, True, False]) == 1.0


def test_a_perfectly_calibrated_scorer_shows_some_calibration_error_on_few_questions():
    from bench.calibration import ece_floor

    # Said 0.5 and right half the time: over 100 answers the share right strays from
    # 0.5 by about 0.04 (0.5 / sqrt(100) * sqrt(2 / pi)); over 10,000 by a hundredth of it.
    mean, low, high = ece_floor([0.5] * 100, draws=500)
    assert 0.02 < mean < 0.06 and low < mean < high
    assert ece_floor([0.5] * 10_000, draws=200)[0] < 0.01
    assert ece_floor([1.0] * 50, draws=10) == (0.0, 0.0, 0.0)  # nothing left to chance


def test_an_unreadable_scorer_file_leaves_the_hand_set_rules(tmp_path, caplog):
    path = tmp_path / "answer-scorer.json"
    path.write_text("{not json")
    assert packaged_scorer(path) is None
    assert "not used" in caplog.text
    assert packaged_scorer(tmp_path / "missing.json") is None


@pytest.mark.parametrize("rank", [True, False])
def test_trained_trees_evaluate_the_same_in_the_package(rank):
    # The service evaluates LightGBM's trees with numpy (no LightGBM at run time): the
    # exported forest must score every row as LightGBM does.
    pytest.importorskip("lightgbm")
    from bench.scorer_train import export, trees

    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=600) > 0.8).astype(int)
    model = trees(x, y, np.ones(600), np.full(60, 10), seed=1, rank=rank)
    forest = export(model)
    fresh = rng.normal(size=(200, len(FEATURES)))
    assert np.allclose(forest.raw(fresh), model.predict(fresh, raw_score=True), atol=1e-9)
    assert (forest.raw(fresh).std()) > 0  # the trees split on something


def test_news_questions_leave_the_nearness_of_words_to_reference_text(tmp_path, hashing):
    question = "Why did the firm run out of money?"
    cands, ranked = one_story(tmp_path, hashing, ["The firm faced financial trouble.",
                                                  "Its shares fell."], question)
    rows = features(question, cands, ranked,
                    vectors=WordVectors({"firm": 0}, np.ones((1, 2), dtype=np.float32)))
    assert domain_of(rows) == "dated" and (rows[:, FEATURES.index("dated")] == 1).all()
    assert not rows[:, [FEATURES.index(f) for f in NEARNESS]].any()


def test_each_kind_of_corpus_has_its_own_trees():
    # News trees prefer the lexical match, reference-text trees the dense one.
    scorer = scorer_for("m", {})
    scorer = replace(scorer, ranker={"dated": stumps({"lexical": 1.0}),
                                     "undated": stumps({"dense": 1.0})})
    rows = np.zeros((2, len(FEATURES)))
    rows[:, FEATURES.index("dense")] = [0.9, 0.3]
    rows[:, FEATURES.index("lexical")] = [0.0, 0.9]
    assert scorer.choose(rows)[0] == 0  # undated: no candidate's article is recent
    rows[:, FEATURES.index("recency")] = 0.1
    assert scorer.choose(rows)[0] == 1


def test_how_near_a_sentence_its_neighbours_and_the_best_come_to_the_question(
        tmp_path, hashing):
    said = ["The firm faced financial trouble.", "Its shares fell.",
            "Trees grew in the valley."]
    question = "Why did the firm run out of money?"  # terms: firm run money
    cands, ranked = one_story(tmp_path, hashing, said, question, published=None)
    # "money" and "financial" 0.6 apart in cosine; no other word has a vector.
    vectors = WordVectors({"money": 0, "financi": 1},
                          np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32))
    rows = features(question, cands, ranked, weights={"firm": 1.0, "run": 1.0, "money": 2.0},
                    vectors=vectors)
    assert domain_of(rows) == "undated"
    col = {c.text: dict(zip(FEATURES, rows[i], strict=True)) for i, c in enumerate(cands)}
    first, second, third = (col[t] for t in said)
    assert first["near_share"] == pytest.approx((1 + 0 + 0.6) / 3)
    assert first["near_missing"] == pytest.approx(0.3)  # "run" and "money" are lacked
    assert first["near_missing_max"] == pytest.approx(0.6)
    assert first["near_weighted"] == pytest.approx((1 + 0 + 2 * 0.6) / 4)
    assert first["bag"] == pytest.approx(0.6)  # only "financial" and "money" have vectors
    assert second["near_share"] == 0.0 and third["near_share"] == 0.0
    # The second sentence with its neighbours holds what the first does.
    assert second["near_window"] == pytest.approx(first["near_share"])
    assert second["near_gap"] == pytest.approx(-first["near_share"])
    # Without vectors only the same words are near.
    plain = features(question, cands, ranked)
    at = [c.text for c in cands].index(said[0])
    assert plain[at, FEATURES.index("near_share")] == pytest.approx(1 / 3)
