# Follows: J. Brownlee, "Time Series Prediction with LSTM Recurrent Neural Networks in Python with
#   Keras" (machinelearningmastery.com, airline passengers): create_dataset(look_back),
#   model.add(LSTM(4, input_shape=(1, look_back))); Dense(1); mse + adam; fit(batch_size=1);
#   the "window method" (input_shape=(look_back, 1)) and a GRU written as old Keras 2 / TF 1 code
#   does: recurrent_activation="hard_sigmoid" (Keras 2's default), GRU(reset_after=False) (the
#   TF 1 / CuDNN-incompatible default), LSTM(unit_forget_bias=False), use_bias=False,
#   activation="relu" (many Stack Overflow answers); train_on_batch with SGD and Adam.
# Changed: airline CSV replaced by a synthetic seasonal series; epochs cut.
import numpy as np
from keras.models import Sequential
from keras.layers import Dense, LSTM, GRU
from keras.optimizers import SGD, Adam

t = np.arange(144)
dataset = (100 + 2 * t + 40 * np.sin(2 * np.pi * t / 12)).astype("float32").reshape(-1, 1)
dataset = (dataset - dataset.min()) / (dataset.max() - dataset.min())
train, test = dataset[:96], dataset[96:]


def create_dataset(dataset, look_back=1):
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back - 1):
        dataX.append(dataset[i:(i + look_back), 0])
        dataY.append(dataset[i + look_back, 0])
    return np.array(dataX), np.array(dataY)


look_back = 3
trainX, trainY = create_dataset(train, look_back)
testX, testY = create_dataset(test, look_back)
trainX1 = np.reshape(trainX, (trainX.shape[0], 1, trainX.shape[1]))
testX1 = np.reshape(testX, (testX.shape[0], 1, testX.shape[1]))

model = Sequential()
model.add(LSTM(4, input_shape=(1, look_back)))
model.add(Dense(1))
model.compile(loss="mean_squared_error", optimizer="adam")
model.fit(trainX1, trainY, epochs=2, batch_size=1, verbose=2)
print(model.predict(testX1)[:5])

trainX2 = np.reshape(trainX, (trainX.shape[0], trainX.shape[1], 1))
testX2 = np.reshape(testX, (testX.shape[0], testX.shape[1], 1))
model = Sequential()
model.add(LSTM(4, input_shape=(look_back, 1), recurrent_activation="hard_sigmoid",
               unit_forget_bias=False))
model.add(Dense(1))
model.compile(loss="mean_squared_error", optimizer=SGD(learning_rate=0.5, momentum=0.9))
print(model.predict(testX2)[:5])
for epoch in range(4):
    print(model.train_on_batch(trainX2[:32], trainY[:32]))
print(model.evaluate(testX2, testY))

model = Sequential()
model.add(GRU(6, input_shape=(look_back, 1), reset_after=False, recurrent_activation="hard_sigmoid",
              return_sequences=True))
model.add(GRU(5, activation="relu", use_bias=False))
model.add(Dense(1))
model.compile(loss="mse", optimizer=Adam(learning_rate=0.01))
print(model.predict(testX2)[:5])
for epoch in range(4):
    print(model.train_on_batch(trainX2[:32], trainY[:32]))
print(model.test_on_batch(testX2, testY))

model = Sequential()
model.add(LSTM(5, input_shape=(look_back, 1), activation="relu", recurrent_activation="relu",
               use_bias=False, return_sequences=True))
model.add(GRU(4, recurrent_activation="tanh", activation="linear", go_backwards=True))
model.add(Dense(1, activation="linear"))
model.compile(loss="mae", optimizer="sgd")
print(model.predict(testX2)[:5])
model.fit(trainX2, trainY, epochs=2, batch_size=16, validation_split=0.25)
print(model.predict_on_batch(testX2[:4]))
