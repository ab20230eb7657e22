"""Write tests/fixtures/keras2_text.json: tf_keras 2.21's Tokenizer / text functions on a
few texts (Keras 2's keras.preprocessing.text), read by tests/test_keras2_compat.py.

Run: PYTHONHASHSEED=0 /work/kvenv/bin/python tools/make_keras2_text_fixture.py
"""
import json
import os

from tf_keras.preprocessing import text as T

TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "Dogs and cats: the end",
         "A\tTAB-separated line\nwith a newline", "", "the THE the cat"]
NEW = ["the unknown cat", "mat dog zebra the", ""]
CASES = {"default": {}, "num_words": {"num_words": 5}, "oov": {"oov_token": "<OOV>"},
         "oov_num_words": {"oov_token": "<OOV>", "num_words": 6},
         "no_lower": {"lower": False}, "char_level": {"char_level": True},
         "filters": {"filters": "!", "split": " "}}


def main():
    out = {"texts": TEXTS, "new": NEW, "cases": {}}
    for name, kwargs in CASES.items():
        tok = T.Tokenizer(**kwargs)
        tok.fit_on_texts(TEXTS)
        seqs = tok.texts_to_sequences(TEXTS + NEW)
        case = {"kwargs": kwargs, "word_index": tok.word_index,
                "index_word": {str(k): v for k, v in tok.index_word.items()},
                "word_counts": list(tok.word_counts.items()),
                "word_docs": dict(tok.word_docs),
                "index_docs": {str(k): v for k, v in tok.index_docs.items()},
                "document_count": tok.document_count,
                "sequences": seqs,
                "texts_back": tok.sequences_to_texts(seqs + [[0, 99, 1, 2]]),
                "matrices": {m: tok.texts_to_matrix(TEXTS + NEW, mode=m).tolist()
                             for m in ("binary", "count", "tfidf", "freq")},
                "config": {k: v for k, v in tok.get_config().items()
                           if k not in ("word_docs", "index_docs")}}
        out["cases"][name] = case
    out["text_to_word_sequence"] = [T.text_to_word_sequence(t) for t in TEXTS]
    out["text_to_word_sequence_split"] = T.text_to_word_sequence("a,b;c", filters=";",
                                                                 split=",")
    out["hashing_trick_md5"] = [T.hashing_trick(t, 17, hash_function="md5") for t in TEXTS]
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                        "keras2_text.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=0)


if __name__ == "__main__":
    main()
