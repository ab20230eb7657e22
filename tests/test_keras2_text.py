"""Keras 2's ``keras.preprocessing.text`` against tf_keras 2.21's own outputs
(tests/fixtures/keras2_text.json, written by tools/make_keras2_text_fixture.py)."""
import json
import os

import numpy as np
import pytest

from fastrnn.preprocessing import text as T

with open(os.path.join(os.path.dirname(__file__), "fixtures", "keras2_text.json")) as f:
    FIX = json.load(f)


@pytest.mark.parametrize("name", sorted(FIX["cases"]))
def test_tokenizer_matches_keras2(name):
    case = FIX["cases"][name]
    tok = T.Tokenizer(**case["kwargs"])
    tok.fit_on_texts(FIX["texts"])
    assert tok.word_index == case["word_index"]
    assert list(tok.word_index) == list(case["word_index"])  # the order Keras writes
    assert {str(k): v for k, v in tok.index_word.items()} == case["index_word"]
    assert [list(kv) for kv in tok.word_counts.items()] == case["word_counts"]
    assert dict(tok.word_docs) == case["word_docs"]
    assert {str(k): v for k, v in tok.index_docs.items()} == case["index_docs"]
    assert tok.document_count == case["document_count"]
    seqs = tok.texts_to_sequences(FIX["texts"] + FIX["new"])
    assert seqs == case["sequences"]
    assert tok.sequences_to_texts(seqs + [[0, 99, 1, 2]]) == case["texts_back"]
    for mode, expected in case["matrices"].items():
        np.testing.assert_allclose(tok.texts_to_matrix(FIX["texts"] + FIX["new"], mode=mode),
                                   expected, rtol=1e-12, atol=0)
    config = tok.get_config()
    for key, value in case["config"].items():
        assert config[key] == value, key
    back = T.tokenizer_from_json(tok.to_json())
    assert back.word_index == tok.word_index and back.index_word == tok.index_word
    assert back.texts_to_sequences(FIX["new"]) == tok.texts_to_sequences(FIX["new"])
    np.testing.assert_array_equal(back.texts_to_matrix(FIX["new"], mode="tfidf"),
                                  tok.texts_to_matrix(FIX["new"], mode="tfidf"))


def test_text_functions_match_keras2():
    assert [T.text_to_word_sequence(t) for t in FIX["texts"]] == FIX["text_to_word_sequence"]
    assert T.text_to_word_sequence("a,b;c", filters=";", split=",") == \
        FIX["text_to_word_sequence_split"]
    assert [T.hashing_trick(t, 17, hash_function="md5") for t in FIX["texts"]] == \
        FIX["hashing_trick_md5"]
    words = T.text_to_word_sequence("the cat the dog")
    idx = T.one_hot("the cat the dog", 50)  # Python's hash: stable within one process
    assert len(idx) == len(words) and idx[0] == idx[2] and all(1 <= i < 50 for i in idx)
    assert T.hashing_trick("ab cd", 5, hash_function=len) == [3, 3]


def test_tokenizer_extras():
    tok = T.Tokenizer(num_words=3)
    tok.fit_on_texts([["A", "b"], ["b"]])  # token lists, lower-cased
    assert tok.word_index == {"b": 1, "a": 2}
    assert tok.texts_to_sequences([["B", "A", "c"]]) == [[1, 2]]
    fresh = T.Tokenizer(num_words=4)
    fresh.fit_on_sequences([[1, 2], [2, 3, 3]])
    np.testing.assert_allclose(fresh.sequences_to_matrix([[3, 3]], mode="tfidf")[0, 3],
                               (1 + np.log(2)) * np.log(1 + 2 / 2))
    with pytest.warns(UserWarning, match="num_words"):
        assert T.Tokenizer(nb_words=7).num_words == 7


@pytest.mark.parametrize("call, match", [
    (lambda: T.Tokenizer().texts_to_matrix(["a"]), "num_words"),
    (lambda: T.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf"), "Fit"),
    (lambda: T.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="bag"), "`mode`"),
    (lambda: T.Tokenizer(num_words=-1), "`num_words`"),
    (lambda: T.Tokenizer(foo=1), "foo"),
    (lambda: T.Tokenizer().fit_on_texts("one string"), "`texts`"),
    (lambda: T.tokenizer_from_json('{"config": {}}'), "`json_string`"),
    (lambda: T.hashing_trick("a", 1), "`n`"),
    (lambda: T.text_to_word_sequence(3), "`input_text`")])
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
