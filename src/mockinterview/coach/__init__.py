"""Coach tools: rescore, calibrate, agreement, tables, and batch jobs (``coach.batch``).

Old-layout bridge: until the layout change moves ``coach.py`` to ``coach/core.py``, this folder
shadows ``coach.py``, so the bridge below loads that file and re-exports its names (what
``from mockinterview.coach import rescore_session`` needs). Once ``coach.py`` has moved it does
nothing, and this file should be left empty.
"""

import importlib.util as _util
import sys as _sys
from pathlib import Path as _Path

_flat = _Path(__file__).resolve().parent.parent / "coach.py"
if _flat.is_file():
    _spec = _util.spec_from_file_location("mockinterview._coach_flat", _flat)
    assert _spec is not None and _spec.loader is not None
    _mod = _util.module_from_spec(_spec)
    _sys.modules[_spec.name] = _mod
    _spec.loader.exec_module(_mod)
    globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("__")})
