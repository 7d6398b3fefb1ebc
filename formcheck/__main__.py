"""`python -m formcheck` runs the command line, same as the `formcheck` script."""

from formcheck.cli import main

main()
