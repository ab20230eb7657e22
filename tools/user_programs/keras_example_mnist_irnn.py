# Source: keras-team/keras examples/mnist_irnn.py (Keras 2.x era; text as in the softengers/keras fork,
#   commit 55e291bf467fcb0638dd7a607579d871998d33ac, minus that fork's two timing lines): IRNN on pixel-by-pixel
#   MNIST — SimpleRNN(relu) with RandomNormal kernel and Identity recurrent initializers, RMSprop(lr=...).
# Changes: `import keras` -> `import fastrnn as keras`; `from keras.X import Y` -> `from fastrnn.X import Y`;
#   mnist.load_data (downloads) -> _synthetic.mnist_load_data (512/128 images of 28x28 uint8);
#   epochs 200 -> 1; batch_size 32 kept.
from __future__ import print_function

import fastrnn as keras
from _synthetic import mnist_load_data  # was: from keras.datasets import mnist
from fastrnn.models import Sequential
from fastrnn.layers import Dense, Activation
from fastrnn.layers import SimpleRNN
from fastrnn import initializers
from fastrnn.optimizers import RMSprop

batch_size = 32
num_classes = 10
epochs = 1
hidden_units = 100

learning_rate = 1e-6
clip_norm = 1.0

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist_load_data()

x_train = x_train.reshape(x_train.shape[0], -1, 1)
x_test = x_test.reshape(x_test.shape[0], -1, 1)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

print('Evaluate IRNN...')
model = Sequential()
model.add(SimpleRNN(hidden_units,
                    kernel_initializer=initializers.RandomNormal(stddev=0.001),
                    recurrent_initializer=initializers.Identity(gain=1.0),
                    activation='relu',
                    input_shape=x_train.shape[1:]))
model.add(Dense(num_classes))
model.add(Activation('softmax'))
rmsprop = RMSprop(lr=learning_rate)
model.compile(loss='categorical_crossentropy',
              optimizer=rmsprop,
              metrics=['accuracy'])

model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=1,
          validation_data=(x_test, y_test))

scores = model.evaluate(x_test, y_test, verbose=0)
print('IRNN test score:', scores[0])
print('IRNN test accuracy:', scores[1])
