"""Regenerate the generated documentation: ``python -m thoughtfield._docs [docs/config.md]``.

``docs/config.md`` is produced from the config schema (every registered section, with
types, defaults, units and descriptions); ``tests/test_config.py`` fails when the
committed file is out of date.
"""

import sys

import thoughtfield  # noqa: F401  (registers every section)
from thoughtfield.config import reference_markdown


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = reference_markdown()
    if not argv or argv[0] == "-":
        sys.stdout.write(text)
    else:
        with open(argv[0], "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
