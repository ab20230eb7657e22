# Source: suryaabhii/DLmit, RNN.py (tensorflow.keras imports, list-style Sequential, adam, validation_data,
#   fit without batch_size).
# Changes: `from tensorflow.keras.models/layers import ...` -> `from fastrnn.models/layers import ...`;
#   `from tensorflow.keras.preprocessing import sequence` -> `from fastrnn.preprocessing import sequence`;
#   imdb.load_data -> _synthetic.imdb_load_data (2000/1000 reviews); epochs 10 -> 1.
from fastrnn.models import Sequential  # Import Sequential
from fastrnn.layers import SimpleRNN, Embedding, Dense  # Also import Dense layer
from _synthetic import imdb_load_data  # was: from tensorflow.keras.datasets import imdb
from fastrnn.preprocessing import sequence

# Load and preprocess IMDB data
max_words = 10000
max_len = 500
(x_train, y_train), (x_test, y_test) = imdb_load_data(num_words=max_words)
x_train = sequence.pad_sequences(x_train, maxlen=max_len)
x_test = sequence.pad_sequences(x_test, maxlen=max_len)

# Build the RNN model
model = Sequential([
    Embedding(max_words, 32),
    SimpleRNN(32),
    Dense(1, activation='sigmoid')
])

model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(x_train, y_train, epochs=1, validation_data=(x_test, y_test))
