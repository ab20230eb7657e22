# Source: wikidocs.net/45101 (딥 러닝을 이용한 자연어 처리 입문, "RNN을 이용한 텍스트 생성"), as transcribed in
#   sunghan-kim/Introduction-to-NLP-Using-DL Ch09_RNN/Ch09_v05_Text_Generation_using_RNN.ipynb
#   (commit 6b76eba8143a717a5415ef94a3d4aac780a812f2, cells 9-48): Tokenizer, pad_sequences, to_categorical,
#   Embedding -> SimpleRNN(32) -> Dense(softmax), then greedy sentence generation.
# Changes: `from tensorflow.keras.{preprocessing.text, preprocessing.sequence, utils, models, layers} import ...`
#   -> `from fastrnn.<same path> import ...`; epochs 200 -> 2. `model.predict_classes` (as in this transcription;
#   removed from Keras in 2.6, the current wikidocs page uses np.argmax(model.predict(...))) kept as written.
from fastrnn.preprocessing.text import Tokenizer
from fastrnn.preprocessing.sequence import pad_sequences
import numpy as np
from fastrnn.utils import to_categorical

text = """경마장에 있는 말이 뛰고 있다
그의 말이 법이다
가는 말이 고와야 오는 말이 곱다"""

t = Tokenizer()
t.fit_on_texts([text])

vocab_size = len(t.word_index) + 1
print("단어 집합의 크기 : %d" % vocab_size)
print(t.word_index)

sequences = list()

for line in text.split('\n'):
    encoded = t.texts_to_sequences([line])[0]

    for i in range(1, len(encoded)):
        sequence = encoded[:i+1]
        sequences.append(sequence)

print('학습에 사용할 샘플의 개수 : %d' % len(sequences))

max_len = max(len(l) for l in sequences)
print('샘플의 최대 길이 : {}'.format(max_len))

sequences = pad_sequences(sequences, maxlen=max_len, padding='pre')
print(sequences)

sequences = np.array(sequences)

X = sequences[:, :-1]
y = sequences[:, -1]

y = to_categorical(y, num_classes=vocab_size)
print(y)

from fastrnn.models import Sequential
from fastrnn.layers import Embedding, Dense, SimpleRNN

model = Sequential()
model.add(Embedding(vocab_size, 10, input_length=max_len-1))
model.add(SimpleRNN(32))
model.add(Dense(vocab_size, activation='softmax'))

model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])

model.fit(X, y, epochs=2, verbose=2)

def sentence_generation(model, t, current_word, n):
    init_word = current_word
    sentence = ''

    for _ in range(n):
        encoded = t.texts_to_sequences([current_word])[0]
        encoded = pad_sequences([encoded], maxlen=5, padding='pre')
        result = model.predict_classes(encoded, verbose=0)

        for word, index in t.word_index.items():
            if index == result:
                break

        current_word = current_word + ' ' + word
        sentence = sentence + ' ' + word

    sentence = init_word + sentence
    return sentence

print(sentence_generation(model, t, '경마장에', 4))
print(sentence_generation(model, t, '그의', 2))
print(sentence_generation(model, t, '가는', 5))
