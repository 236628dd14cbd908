"""``python -m tests.faults``: run the fault suite alone and print its summary table."""

from .run import main

raise SystemExit(main())
