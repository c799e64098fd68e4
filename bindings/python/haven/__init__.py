"""Haven, the on-device content-safety engine for children, in Python.

Everything is re-exported from the module UniFFI generates (``haven_ffi``, placed next to this file with the
shared library by ``scripts/bindings.sh``)::

    import haven
    engine = haven.Haven(haven.HavenConfig(), haven.Profile(name="Mia", tier=haven.AgeTier.AGE9_TO12))
    engine.check_url("https://www.bet365.com/").action  # haven.Action.BLOCK

Errors are ``haven.HavenError`` and its subclasses ``InvalidInput``, ``ModelUnavailable``, ``ListError`` and
``Internal``; their messages never contain the checked URL, text or image.
"""

from .haven_ffi import *  # noqa: F401,F403
from .haven_ffi import HavenError  # noqa: F401
