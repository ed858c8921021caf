"""``python -m telnyx_messaging``: the command line (see ``telnyx_messaging._cli``)."""

import sys

from telnyx_messaging._cli.main import main

if __name__ == "__main__":  # pragma: no cover - run as a script
    sys.exit(main())
