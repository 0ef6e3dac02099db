"""The one exception type that means "the user gave us something wrong".

Why a dedicated type: the CLI turns exactly this into exit code 2 and a one-line message, while
any other exception is a bug in reportgen. Messages name the file, column or value at fault and
say what was expected, Keras-style: "test.csv: column 'label' not found (columns: a, b, c)".
"""


class InputError(Exception):
    """Bad usage or bad input. `str(err)` is the one line shown to the user."""
