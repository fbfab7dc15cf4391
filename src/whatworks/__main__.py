"""`python -m whatworks` runs the command-line interface."""

from whatworks.cli import main

main()
