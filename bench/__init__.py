"""The national-scale benchmark (``python -m bench``); not part of the test suite or CI."""
