"""Session-cached healthy cases: real data, real small Keras models (see tests/models.py)."""
import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import models  # noqa: E402


@pytest.fixture(scope="session")
def healthy_binary():
    return models.train_model(models.breast_cancer())


@pytest.fixture(scope="session")
def healthy_multiclass():
    return models.train_model(models.wine(), epochs=60)


@pytest.fixture(scope="session")
def healthy_regression():
    # the diabetes target (25..346) is left unscaled on purpose: a linear output learns it fine
    return models.train_model(models.diabetes(), epochs=150, lr=1e-2, hidden=(16,))


@pytest.fixture(scope="session")
def healthy_forecast():
    # an LSTM on 12-step windows that forecasts the change from the last value (beats naive)
    return models.healthy_lstm()
