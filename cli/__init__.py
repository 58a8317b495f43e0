"""The ``credithub`` command line: one module per command group, :mod:`cli.main` joins them."""
