"""`python -m analysis.cli` runs the `onenet` command line."""

from analysis.cli import main

main()
