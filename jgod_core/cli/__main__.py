"""`python -m jgod_core.cli` runs the `jgod` command."""

from jgod_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
