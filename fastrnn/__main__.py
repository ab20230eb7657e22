"""`python -m fastrnn`: the Keras tutorial fastrnn grew from, run as written, then a
short speed comparison of the compiled kernel against the NumPy reference loop."""
import numpy as np

import fastrnn
from fastrnn import reference
from fastrnn.benchmark import _time_fn
from fastrnn.layers import Bidirectional, SimpleRNN
from fastrnn.models import Sequential


def tutorial():
    fastrnn.set_random_seed(0)
    print("# A single SimpleRNN: input_shape=(2, 10)")
    model = Sequential()
    model.add(SimpleRNN(3, input_shape=(2, 10)))  # same as input_length=2, input_dim=10
    model.summary()

    print("\n# batch_input_shape=(8, 2, 10)")
    model = Sequential()
    model.add(SimpleRNN(3, batch_input_shape=(8, 2, 10)))
    model.summary()

    print("\n# batch_input_shape=(8, 2, 10), return_sequences=True")
    model = Sequential()
    model.add(SimpleRNN(3, batch_input_shape=(8, 2, 10), return_sequences=True))
    model.summary()

    print("\n# return_sequences=True, return_state=True on train_X of shape (1, 4, 5)")
    train_X = np.array([[[0.1, 4.2, 1.5, 1.1, 2.8], [1.0, 3.1, 2.5, 0.7, 1.1],
                         [0.3, 2.1, 1.5, 2.1, 0.1], [2.2, 1.4, 0.5, 0.9, 1.1]]],
                       dtype=np.float32)
    rnn = SimpleRNN(3, return_sequences=True, return_state=True)
    hidden_states, last_state = rnn(train_X)
    print("hidden states : {}, shape: {}".format(hidden_states, hidden_states.shape))
    print("last hidden state : {}, shape: {}".format(last_state, last_state.shape))

    timesteps, input_dim, hidden_size = 10, 5, 8
    data = np.random.default_rng(0).uniform(-1, 1, (4, timesteps, input_dim))
    print(f"\n# Deep RNN: two SimpleRNN({hidden_size}, return_sequences=True), "
          "shapes inferred on first use")
    model = Sequential()
    model.add(SimpleRNN(hidden_size, return_sequences=True))
    model.add(SimpleRNN(hidden_size, return_sequences=True))
    print("output shape:", model(data).shape)
    model.summary()

    print(f"\n# Bidirectional RNN on (timesteps, input_dim) = ({timesteps}, {input_dim})")
    model = Sequential()
    model.add(Bidirectional(SimpleRNN(hidden_size, return_sequences=True),
                            input_shape=(timesteps, input_dim)))
    print("output shape:", model.predict(data, verbose=0).shape)
    model.summary()


def _median_time(fn, min_time=0.2):
    return float(np.median(_time_fn(fn, min_time)))


def speed():
    print("\n# Speed: SimpleRNN(return_sequences=True) on the compiled kernel vs the NumPy "
          "reference loop (forward, float32, median)")
    print(f"{'(B, T, D, H)':>22} {'kernel':>11} {'NumPy loop':>11} {'speed-up':>9}")
    rng = np.random.default_rng(0)
    for B, T, D, H in [(8, 2, 10, 3), (64, 100, 128, 256)]:
        x = rng.uniform(-1, 1, (B, T, D)).astype(np.float32)
        W = rng.uniform(-0.1, 0.1, (D, H)).astype(np.float32)
        U = rng.uniform(-0.1, 0.1, (H, H)).astype(np.float32)
        b = np.zeros(H, np.float32)
        layer = SimpleRNN(H, return_sequences=True)  # the call a user makes
        layer.build((None, T, D))
        layer.set_weights([W, U, b])
        ref, _ = reference.simple_rnn_forward(x, W, U, b)
        np.testing.assert_allclose(layer(x), ref, rtol=1e-4, atol=1e-5)
        t_k = _median_time(lambda: layer(x))
        t_r = _median_time(lambda: reference.simple_rnn_forward(x, W, U, b))
        print(f"{str((B, T, D, H)):>22} {t_k * 1e6:>9.1f}us {t_r * 1e6:>9.1f}us "
              f"{t_r / t_k:>8.1f}x")


def main():
    tutorial()
    speed()


if __name__ == "__main__":
    main()
