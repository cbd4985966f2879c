"""``python -m tts`` is the ``palette`` command."""

import sys

from tts.cli import main

sys.exit(main())
