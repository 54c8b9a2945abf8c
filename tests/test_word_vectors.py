"""The model's word vectors by stem, and how near a sentence's words come to a question's."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

from index.embedder import resolve_model
from index.terms import terms
from qa.word_vectors import WordVectors, word_vectors


def tiny_model(folder, vectors: dict[str, list[float]]):
    """A model folder holding only a vocabulary and its input embedding table."""
    folder.mkdir()
    vocab = ["[PAD]", "[CLS]", "##s", *vectors]
    table = np.array([[0.0, 0.0, 0.0]] * 3 + list(vectors.values()), dtype=np.float32)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    save_file({"embeddings.word_embeddings.weight": table},
              str(folder / "model.safetensors"))
    return folder


def test_a_stem_is_the_mean_of_its_words_centred_and_pieces_are_left_out(tmp_path):
    folder = tiny_model(tmp_path / "m", {"buy": [4.0, 1.0, 0.0], "buying": [4.0, 3.0, 0.0],
                                         "tree": [0.0, 0.0, 6.0]})
    vectors = WordVectors.of_model(folder)
    assert set(vectors.row) == {"buy", "tree"}  # "buying" is stemmed to "buy"; no "##s"
    centre = np.array([8.0, 4.0, 6.0]) / 6  # the whole table's mean, pieces included
    expected = np.array([4.0, 2.0, 0.0]) - centre
    assert np.allclose(vectors.matrix[vectors.row["buy"]], expected / np.linalg.norm(expected))
    assert np.allclose(np.linalg.norm(vectors.matrix, axis=1), 1.0)


def test_nearness_is_one_for_the_same_term_and_the_cosine_for_another(tmp_path):
    folder = tiny_model(tmp_path / "m", {"buy": [1.0, 0.0, 0.0], "purchase": [1.0, 1.0, 0.0],
                                         "tree": [-1.0, 0.0, 1.0], "pad": [0.0, -1.0, -1.0]})
    vectors = WordVectors.of_model(folder)
    m = vectors.matrix
    cosine = float(m[vectors.row["buy"]] @ m[vectors.row["purchas"]])
    near, bag = vectors.compare(("buy", "zelensky"), [("purchas", "tree"), (), ("zelensky",),
                                                      ("buy", "zelensky")])
    assert 0 < cosine < 1
    assert near[0].tolist() == pytest.approx([cosine, 0.0])  # a name without a vector
    assert near[1].tolist() == [0.0, 0.0]  # a sentence without terms
    assert near[2].tolist() == [0.0, 1.0] and near[3].tolist() == [1.0, 1.0]
    # The mean vectors: "purchase" and "tree" against "buy" (the name has none).
    m_sentence = m[vectors.row["purchas"]] + m[vectors.row["tree"]]
    assert bag[0] == pytest.approx(m_sentence @ m[vectors.row["buy"]]
                                   / np.linalg.norm(m_sentence))
    assert bag[1] == 0.0 and bag[2] == 0.0 and bag[3] == pytest.approx(1.0)


def test_a_folder_without_the_table_gives_none(tmp_path):
    assert word_vectors(str(tmp_path)) is None


def test_the_real_model_knows_related_words_from_unrelated():
    vectors = word_vectors(resolve_model("all-MiniLM-L6-v2")[0])
    assert vectors is not None and len(vectors.row) > 10_000
    asked = tuple(terms("Why did the company run out of money?"))
    near, _ = vectors.compare(asked, [tuple(terms("It faced financial difficulties.")),
                                      tuple(terms("Trees grow in the valley."))])
    money = asked.index("money")
    assert near[0, money] > near[1, money] + 0.3
