"""`python -m formcheck` runs the command line, same as the `formcheck` script."""

from formcheck.cli import main

# Guarded: the pose model's child process re-imports this module under another name.
if __name__ == "__main__":
    main()
