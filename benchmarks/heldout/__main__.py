"""Entry point: `python -m benchmarks.heldout --records 20000 --seed 1 [--out DIR]`."""

from benchmarks.heldout.run import main

raise SystemExit(main())
