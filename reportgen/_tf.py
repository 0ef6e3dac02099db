"""The one place that imports TensorFlow/Keras, quietly.

Why a module of its own: importing TensorFlow costs 6-7 s and ~800 MB, so only code paths
that hold a model import this, and the log-level variable must be set before the import.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "keras"]
