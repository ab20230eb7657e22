"""Callbacks with Keras 3's hooks and semantics.

``Callback``, ``CallbackList``, ``History`` (base); ``EarlyStopping``,
``ReduceLROnPlateau`` (monitor); ``ModelCheckpoint`` (checkpoint);
``LearningRateScheduler``, ``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback`` (misc);
``TensorBoard`` (tensorboard, needs tensorboardX).
A callback talks to the model only through ``model.stop_training``,
``model.get_weights()/set_weights()``, ``model.optimizer.learning_rate`` and
``model.save/save_weights``.
"""
from .base import Callback, CallbackList, History
from .checkpoint import ModelCheckpoint
from .misc import CSVLogger, LambdaCallback, LearningRateScheduler, TerminateOnNaN
from .monitor import EarlyStopping, MonitorCallback, ReduceLROnPlateau
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping", "ReduceLROnPlateau",
           "ModelCheckpoint", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN",
           "LambdaCallback", "MonitorCallback", "TensorBoard"]
