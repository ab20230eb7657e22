# Follows: J. Brownlee, "Time Series Forecasting with the Long Short-Term Memory Network in Python"
#   and "Stateful and Stateless LSTM for Time Series Forecasting with Python" (machinelearningmastery.com):
# fit_lstm: LSTM(neurons, batch_input_shape=(batch_size, X.shape[1], X.shape[2]), stateful=True),
# Dense(1), mse + adam, `for i in range(nb_epoch): model.fit(X, y, epochs=1, batch_size=batch_size,
# verbose=0, shuffle=False); model.reset_states()`; then predict the training set to build up the
# state and forecast one step at a time with batch size 1 (forecast_lstm).
# Changed: Keras 3 rejects batch_input_shape=, so the fixed batch comes from keras.Input(batch_shape=...)
# (Keras 3's spelling), and Keras 3 models have no reset_states(): the LSTM layer's reset_states()
# is called (what Keras 3's RNN docstring says); the shampoo CSV replaced by a synthetic differenced, scaled series; nb_epoch 3.
import numpy as np
import keras
from keras.models import Sequential
from keras.layers import Dense, LSTM

rng = np.random.default_rng(4)
series = np.cumsum(rng.normal(loc=1.0, size=37)) + 100.0
diff = np.diff(series)
scaled = 2 * (diff - diff.min()) / (diff.max() - diff.min()) - 1
supervised = np.stack([np.concatenate([[0.0], scaled[:-1]]), scaled], axis=1).astype("float32")
train, test = supervised[:-12], supervised[-12:]


def fit_lstm(train, batch_size, nb_epoch, neurons):
    X, y = train[:, 0:-1], train[:, -1]
    X = X.reshape(X.shape[0], 1, X.shape[1])
    model = Sequential()
    model.add(keras.Input(batch_shape=(batch_size, X.shape[1], X.shape[2])))
    model.add(LSTM(neurons, stateful=True))
    model.add(Dense(1))
    model.compile(loss="mean_squared_error", optimizer="adam")
    for i in range(nb_epoch):
        model.fit(X, y, epochs=1, batch_size=batch_size, verbose=0, shuffle=False)
        model.layers[0].reset_states()
    return model


def forecast_lstm(model, batch_size, X):
    X = X.reshape(1, 1, len(X))
    yhat = model.predict(X, batch_size=batch_size, verbose=0)
    return yhat[0, 0]


lstm_model = fit_lstm(train, 1, 3, 4)
train_reshaped = train[:, 0].reshape(len(train), 1, 1)
print(lstm_model.predict(train_reshaped, batch_size=1))
predictions = []
for i in range(len(test)):
    X, y = test[i, 0:-1], test[i, -1]
    predictions.append(forecast_lstm(lstm_model, 1, X))
print(predictions)

# the same with a batch of 5 sequences and GRU (Keras 3 Functional spelling)
inputs = keras.Input(batch_shape=(5, 1, 1))
gru = keras.layers.GRU(3, stateful=True)
outputs = Dense(1)(gru(inputs))
model = keras.Model(inputs, outputs)
model.compile(loss="mse", optimizer="sgd")
X5 = train[:20, 0].reshape(20, 1, 1)
y5 = train[:20, 1]
for i in range(2):
    model.fit(X5, y5, epochs=1, batch_size=5, verbose=0, shuffle=False)
    gru.reset_state()
print(model.predict(X5, batch_size=5))
