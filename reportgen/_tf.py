"""The one place that imports TensorFlow/Keras, quietly.

Why a module of its own: importing TensorFlow costs 6-7 s and ~800 MB, so only code paths
that hold a model import this. TensorFlow's native libraries log "oneDNN custom operations are
on" through absl before TF_CPP_MIN_LOG_LEVEL applies, so the import runs with the process's
stderr file descriptor pointed at /dev/null; a failing import restores it first and re-raises.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_quietly():
    if os.environ.get("REPORTGEN_DEBUG"):
        import tensorflow as tf_mod
        import keras as keras_mod

        return tf_mod, keras_mod
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf_mod
        import keras as keras_mod
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf_mod, keras_mod


tf, keras = _import_quietly()
tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "keras"]
