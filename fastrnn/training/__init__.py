"""Training machinery: the tape (reverse-mode over layers), the trainer (compile, fit,
evaluate, predict) and Keras's progress bar."""
from .tape import Tape

__all__ = ["Tape"]
