# Source: https://compphysics.github.io/MachineLearning/doc/pub/week45/html/._week45-bs019.html
#   (Morten Hjorth-Jensen, FYS-STK4155 "Applied Data Analysis and Machine Learning", week 45, "A simple example"):
#   noisy sine, windows of 4 steps as (1, 4) sequences, SimpleRNN(relu) -> Dense -> Dense, rmsprop.
# Changes: `from tensorflow.keras import datasets, layers, models` / `.layers import Input` / `.models import
#   Model, Sequential` / `.layers import Dense, SimpleRNN, LSTM, GRU` / `import optimizers, regularizers` /
#   `.utils import to_categorical` -> the same names from fastrnn; `import tensorflow as tf` dropped (unused);
#   epochs 100 -> 2; plt.show() dropped (Agg backend).
import matplotlib
matplotlib.use("Agg")
import pandas as pd
import numpy as np
import matplotlib.pyplot as plt
from fastrnn import datasets, layers, models
from fastrnn.layers import Input
from fastrnn.models import Model, Sequential
from fastrnn.layers import Dense, SimpleRNN, LSTM, GRU
from fastrnn import optimizers
from fastrnn import regularizers
from fastrnn.utils import to_categorical



# convert into dataset matrix
def convertToMatrix(data, step):
 X, Y =[], []
 for i in range(len(data)-step):
  d=i+step
  X.append(data[i:d,])
  Y.append(data[d,])
 return np.array(X), np.array(Y)

step = 4
N = 1000
Tp = 800

t=np.arange(0,N)
x=np.sin(0.02*t)+2*np.random.rand(N)
df = pd.DataFrame(x)
df.head()

values=df.values
train,test = values[0:Tp,:], values[Tp:N,:]

# add step elements into train and test
test = np.append(test,np.repeat(test[-1,],step))
train = np.append(train,np.repeat(train[-1,],step))

trainX,trainY =convertToMatrix(train,step)
testX,testY =convertToMatrix(test,step)
trainX = np.reshape(trainX, (trainX.shape[0], 1, trainX.shape[1]))
testX = np.reshape(testX, (testX.shape[0], 1, testX.shape[1]))

model = Sequential()
model.add(SimpleRNN(units=32, input_shape=(1,step), activation="relu"))
model.add(Dense(8, activation="relu"))
model.add(Dense(1))
model.compile(loss='mean_squared_error', optimizer='rmsprop')
model.summary()

model.fit(trainX,trainY, epochs=2, batch_size=16, verbose=2)
trainPredict = model.predict(trainX)
testPredict= model.predict(testX)
predicted=np.concatenate((trainPredict,testPredict),axis=0)

trainScore = model.evaluate(trainX, trainY, verbose=0)
print(trainScore)
plt.plot(df)
plt.plot(predicted)
