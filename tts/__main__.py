"""``python -m palette.tts`` is the ``palette`` command."""

import sys

from palette.tts.cli import main

sys.exit(main())
