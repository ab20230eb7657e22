"""Keras's datasets, read from Keras's own cache folder: ``imdb``, ``mnist``.

Files live in ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``), where Keras keeps
them, so a machine that ran Keras needs no download; otherwise they are fetched from the
same public URLs Keras uses. Loading never executes code from a file.
"""
from . import imdb, mnist

__all__ = ["imdb", "mnist"]
