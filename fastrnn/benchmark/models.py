"""Model workloads (imdb-fit, its LSTM and GRU variants, seed-step) for fastrnn and PyTorch.

fastrnn runs what a user runs: ``Sequential([...]).compile(RMSprop, "binary_crossentropy")``
then ``fit`` / ``train_on_batch`` / ``predict`` / ``predict_on_batch``. PyTorch runs the
training loop a PyTorch user writes for the same model (``nn.Embedding`` -> ``nn.RNN`` /
``nn.LSTM`` / ``nn.GRU`` (weights mapped as gated.py says) -> ``nn.Linear``,
``BCEWithLogitsLoss``, ``torch.optim.RMSprop``), on the same weights and the
same batches (fit with ``shuffle=False``: the synthetic data are already random).

Canonical outputs (checked before timing, see workloads.output_labels):

    inference: [predictions (N, 1)]
    training:  imdb-fit: [final loss, final val_loss, first-batch loss, gradients...]
               seed-step: [train_on_batch's loss, first-batch loss, gradients...]

the gradients being those of the first batch's loss, before any update, in Keras's weight
order (see workloads.make_model_case).
"""
import math

from .gated import keras_grads, torch_layout
from .workloads import MODEL_WORKLOADS, OPTIMIZER, WORKLOADS, cell

__all__ = ["fastrnn_model", "torch_model", "split"]


def split(name, n):
    """Training samples of fit's validation_split (Keras: the last fraction is validation)."""
    return int(math.floor(n * (1 - MODEL_WORKLOADS[name]["validation_split"])))


def _build_fastrnn(name, weights, dtype):
    from fastrnn.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
    from fastrnn.models import Sequential
    from fastrnn.optimizers import RMSprop
    B, T, D, H, _ = WORKLOADS[name]
    vocab = MODEL_WORKLOADS[name]["vocab"]
    rnn = {"simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}[cell(name)]
    if vocab:
        layers = [Embedding(vocab, D, input_shape=(T,), dtype=dtype), rnn(H, dtype=dtype)]
    else:
        layers = [rnn(H, input_shape=(T, D), dtype=dtype)]
    model = Sequential(layers + [Dense(1, activation="sigmoid", dtype=dtype)])
    model.compile(optimizer=RMSprop(**OPTIMIZER), loss="binary_crossentropy")
    model.set_weights(weights)
    return model


def _fastrnn_gradients(model, x, y):
    """The loss and the gradients of every trainable weight for one batch, without an
    update (the same tape walk as the trainer's step)."""
    import numpy as np
    from fastrnn.models.graph import run_graph
    from fastrnn.training.tape import Tape
    xs, ys = model._check_xy(x, y, "benchmark")
    tape = Tape(input_gradients=False)
    out_ids = {id(t) for t in model.outputs}
    outs, _, contexts = run_graph(model._nodes, model.inputs, model.outputs, xs,
                                  training=True, tape=tape, ctx_for=out_ids)
    loss, d_tensors = model._loss_terms(ys, outs, contexts, training=True)
    _, d_weights = tape.backward(d_tensors)
    grads = [d_weights[id(v)] for v in model.trainable_weights]
    # an Embedding's gradient is row-sparse: compare it dense with the contenders'
    return [np.asarray(loss)] + [np.array(g.to_dense() if hasattr(g, "to_dense") else g)
                                 for g in grads]


def fastrnn_model(name, data, weights, mode, dtype, threads):
    import numpy as np
    B = WORKLOADS[name][0]
    x, y = data
    model = _build_fastrnn(name, weights, dtype)
    if mode == "inference":
        if name == "seed-step":
            return lambda: model.predict_on_batch(x), lambda out: [np.asarray(out)]
        return lambda: model.predict(x, batch_size=B, verbose=0), lambda out: [out]
    first = _fastrnn_gradients(model, x[:B], y[:B])
    model.reset_metrics()
    if name == "seed-step":
        return lambda: model.train_on_batch(x, y), lambda out: [np.asarray(out)] + first
    split_ = MODEL_WORKLOADS[name]["validation_split"]

    def fn():
        return model.fit(x, y, batch_size=B, epochs=1, validation_split=split_,
                         shuffle=False, verbose=0).history

    def outputs(hist):
        return [np.asarray(hist["loss"][-1]), np.asarray(hist["val_loss"][-1])] + first
    return fn, outputs


def _torch_net(name, weights, dtype):
    import numpy as np
    import torch
    B, T, D, H, _ = WORKLOADS[name]
    vocab = MODEL_WORKLOADS[name]["vocab"]
    kind = cell(name)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(vocab, D) if vocab else None
            if kind == "simple_rnn":
                self.rnn = torch.nn.RNN(D, H, batch_first=True, nonlinearity="tanh")
            else:
                self.rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(
                    D, H, batch_first=True)
            self.fc = torch.nn.Linear(H, 1)

        def forward(self, x):
            _, h = self.rnn(self.emb(x) if self.emb is not None else x)
            h = h[0] if kind == "lstm" else h  # LSTM: (h, c)
            return self.fc(h[0])  # logits (N, 1)

    net = Net()
    net = net.double() if dtype == "float64" else net.float()
    W, U, b, Wd, bd = weights[-5:]
    if kind == "simple_rnn":
        torch_w = (W.T.copy(), U.T.copy(), b, np.zeros_like(b))
    else:
        torch_w = torch_layout(kind, W, U, b)
    rnn_params = [getattr(net.rnn, t) for t in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                                 "bias_hh_l0")]
    # Keras has one bias (GRU: input and recurrent, as PyTorch); PyTorch's bias_hh of RNN
    # and LSTM stays zero and frozen
    if kind != "gru":
        net.rnn.bias_hh_l0.requires_grad_(False)
    with torch.no_grad():
        if vocab:
            net.emb.weight.copy_(torch.from_numpy(weights[0]))
        for p, arr in zip(rnn_params, torch_w):
            p.copy_(torch.from_numpy(arr))
        net.fc.weight.copy_(torch.from_numpy(Wd.T.copy()))
        net.fc.bias.copy_(torch.from_numpy(bd))

    def grads():
        """The parameters' gradients in Keras's order and layout."""
        g = [None if p.grad is None else p.grad.numpy().copy() for p in rnn_params]
        if kind == "simple_rnn":
            rnn_g = [g[0].T, g[1].T, g[2]]
        else:
            rnn_g = keras_grads(kind, g[0], g[1], g[2], g[2] if g[3] is None else g[3])
        emb = [net.emb.weight.grad.numpy().copy()] if vocab else []
        return emb + list(rnn_g) + [net.fc.weight.grad.numpy().T.copy(),
                                    net.fc.bias.grad.numpy().copy()]
    return net, grads


def torch_model(name, data, weights, mode, dtype, threads):
    import numpy as np
    import torch
    torch.set_num_threads(threads)
    B = WORKLOADS[name][0]
    x, y = data
    n = x.shape[0]
    net, keras_grads_ = _torch_net(name, weights, dtype)
    xt = torch.from_numpy(x.astype(np.int64) if x.dtype.kind == "i" else x)
    yt = torch.from_numpy(y)
    if mode == "inference":
        def predict():
            with torch.inference_mode():
                if name == "seed-step":
                    return torch.sigmoid(net(xt))
                return torch.cat([torch.sigmoid(net(xt[s:s + B])) for s in range(0, n, B)])
        return predict, lambda out: [out.numpy()]
    loss_fn = torch.nn.BCEWithLogitsLoss()
    # the first batch's loss and gradients, before any update
    loss0 = loss_fn(net(xt[:B]), yt[:B])
    loss0.backward()
    first = [loss0.detach().numpy().copy()] + keras_grads_()
    opt = torch.optim.RMSprop([p for p in net.parameters() if p.requires_grad],
                              lr=OPTIMIZER["learning_rate"], alpha=OPTIMIZER["rho"],
                              eps=OPTIMIZER["epsilon"])

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    if name == "seed-step":
        return lambda: step(xt, yt), lambda out: [np.asarray(out)] + first
    n_train = split(name, n)

    def fit_epoch():
        net.train()
        total = 0.0
        for s in range(0, n_train, B):
            e = min(s + B, n_train)
            total += step(xt[s:e], yt[s:e]) * (e - s)
        val = 0.0
        with torch.inference_mode():
            for s in range(n_train, n, B):
                val += loss_fn(net(xt[s:s + B]), yt[s:s + B]).item() * len(xt[s:s + B])
        return total / n_train, val / max(1, n - n_train)
    return fit_epoch, lambda out: [np.asarray(out[0]), np.asarray(out[1])] + first
