"""``python -m fastrnn.benchmark [options]``: see fastrnn/benchmark/cli.py."""
from .cli import main

main()
