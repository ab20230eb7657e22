"""fastrnn.utils: to_categorical, pad_sequences, normalize, timeseries windows, PyDataset
and class weights — semantics beyond the Keras fixtures, and bad input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

utils, preprocessing = load("utils", "preprocessing")


def test_to_categorical_shapes_and_errors():
    out = utils.to_categorical(np.array([[1, 0], [2, 1]]), num_classes=3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float64
    assert out[1, 0].tolist() == [0, 0, 1]
    with pytest.raises(ValueError, match="`x`.*\\[0, 2\\]"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="`x`.*non-integer"):
        utils.to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="`x`"):
        utils.to_categorical([-1, 1])
    with pytest.raises(ValueError, match="`num_classes`"):
        utils.to_categorical([0, 1], num_classes=2.5)
    with pytest.raises(ValueError, match="`x`.*dtype"):
        utils.to_categorical(["a", "b"])


def test_pad_sequences_vectors_strings_and_errors():
    seqs = [np.ones((2, 3)), np.zeros((1, 3))]
    out = utils.pad_sequences(seqs, dtype="float32", padding="post")
    assert out.shape == (2, 2, 3) and out[1, 1].tolist() == [0, 0, 0]
    words = utils.pad_sequences([["a"], ["b", "c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["<pad>", "a"], ["b", "c"]]
    assert utils.pad_sequences([[], []]).shape == (2, 0)
    with pytest.raises(ValueError, match="`dtype` int32 is not compatible"):
        utils.pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match="must be a list of iterables"):
        utils.pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="must be iterable"):
        utils.pad_sequences(5)
    with pytest.raises(ValueError, match="Shape of sample"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((2, 4))], dtype="float32")
    with pytest.raises(ValueError, match="`maxlen`"):
        utils.pad_sequences([[1, 2]], maxlen=-1)


def test_normalize_keeps_zero_rows_and_rejects_scalars():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert_allclose(utils.normalize(x), [[0.6, 0.8], [0, 0]])
    assert_allclose(utils.normalize(x, axis=0, order=1), [[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="`x`"):
        utils.normalize(3.0)


def test_timeseries_shuffle_no_batch_and_errors():
    data = np.arange(30).reshape(15, 2)
    targets = np.arange(15) * 10
    a = utils.timeseries_dataset_from_array(data, targets, 3, batch_size=4, shuffle=True,
                                            seed=7)
    b = utils.timeseries_dataset_from_array(data, targets, 3, batch_size=4, shuffle=True,
                                            seed=7)
    xa = np.concatenate([x for x, _ in a])
    assert np.array_equal(xa, np.concatenate([x for x, _ in b]))
    for x, y in a:                                   # windows still match their targets
        assert np.array_equal(x[:, 0, 0] * 5, y)
    starts = np.arange(13)
    np.random.RandomState(7).shuffle(starts)
    assert np.array_equal(xa[:, 0, 0] // 2, starts)
    single = list(utils.timeseries_dataset_from_array(data, None, 4, batch_size=None))
    assert len(single) == 12 and single[0].shape == (4, 2)
    for kwargs, match in [({"sequence_stride": 0}, "sequence_stride"),
                          ({"sampling_rate": 15}, "sampling_rate"),
                          ({"start_index": 20}, "start_index"),
                          ({"start_index": 5, "end_index": 4}, "end_index"),
                          ({"batch_size": 0}, "batch_size"),
                          ({"sequence_length": 2.5}, "sequence_length")]:
        with pytest.raises(ValueError, match=match):
            utils.timeseries_dataset_from_array(data, targets, **{"sequence_length": 3,
                                                                  **kwargs})


def test_py_dataset_and_sequence():
    class Batches(utils.PyDataset):
        def __init__(self, n, **kwargs):
            super().__init__(**kwargs)
            self.n = n
            self.epochs_ended = 0

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return np.full((2, 1), i), np.full((2,), i)

        def on_epoch_end(self):
            self.epochs_ended += 1

    ds = Batches(3, workers=2)
    assert [int(x[0, 0]) for x, _ in ds] == [0, 1, 2]
    assert ds.num_batches == 3 and ds.workers == 2 and not ds.use_multiprocessing
    ds.on_epoch_end()
    assert ds.epochs_ended == 1
    assert utils.Sequence is utils.PyDataset

    class NoSuper(utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

    with pytest.warns(UserWarning, match="super\\(\\).__init__"):
        assert NoSuper().workers == 1
    with pytest.raises(NotImplementedError):
        utils.PyDataset()[0]


def test_class_weight_to_sample_weights_follows_keras():
    cw = {0: 1.0, 1: 3.0}
    assert utils.class_weight_to_sample_weights(np.array([0, 1, 2, 1]), cw).tolist() == \
        [1.0, 3.0, 1.0, 3.0]                      # a class without weight counts 1.0
    assert utils.class_weight_to_sample_weights(np.array([[0.9], [0.2]]), cw).tolist() == \
        [3.0, 1.0]                                # (batch, 1) labels are rounded
    onehot = np.eye(3)[[2, 1, 0]]
    out = utils.class_weight_to_sample_weights(onehot, {2: 0.5})
    assert out.tolist() == [0.5, 1.0, 1.0] and out.dtype == np.float32
    seq = np.eye(2)[np.array([[0, 1, 1], [1, 0, 0]])]        # (batch, timesteps, classes)
    assert utils.class_weight_to_sample_weights(seq, cw).tolist() == [[1, 3, 3], [3, 1, 1]]


@pytest.mark.parametrize("cw, match", [
    ({5: 2.0}, "classes \\[5\\] do not exist"),
    ({"a": 2.0}, "class indices"),
    ({-1: 2.0}, "class indices"),
    ({0: float("nan")}, "finite number"),
    ([1.0, 2.0], "dict"),
])
def test_class_weight_errors_name_the_argument(cw, match):
    with pytest.raises(ValueError, match="`class_weight`.*" + match):
        utils.class_weight_to_sample_weights(np.eye(3), cw)


def test_set_random_seed_and_helpers_still_importable():
    utils.set_random_seed(3)
    a = utils.make_rng().normal()
    utils.set_random_seed(3)
    assert utils.make_rng().normal() == a
    assert utils.snake_case("SimpleRNN") == "simple_rnn"
    assert utils.unique_name("toolbox_test_name") == "toolbox_test_name"
    assert preprocessing.sequence.pad_sequences([[1]], maxlen=2).tolist() == [[0, 1]]
    assert preprocessing.sequence.pad_sequences is utils.pad_sequences


def test_pack_and_unpack_x_y_sample_weight():
    assert utils.unpack_x_y_sample_weight("x") == ("x", None, None)
    assert utils.unpack_x_y_sample_weight(["x", "y"]) == ("x", "y", None)
    assert utils.unpack_x_y_sample_weight(("x",)) == ("x", None, None)
    assert utils.unpack_x_y_sample_weight(("x", "y", "w")) == ("x", "y", "w")
    with pytest.raises(ValueError, match="`\\(x, y, sample_weight\\)`.*4 elements"):
        utils.unpack_x_y_sample_weight((1, 2, 3, 4))
    assert utils.pack_x_y_sample_weight("x") == "x"
    assert utils.pack_x_y_sample_weight(("a", "b")) == (("a", "b"),)
    assert utils.pack_x_y_sample_weight("x", "y", "w") == ("x", "y", "w")
    for packed in (("x", "y"), ("x", "y", "w")):
        assert utils.pack_x_y_sample_weight(*utils.unpack_x_y_sample_weight(packed)) == packed
