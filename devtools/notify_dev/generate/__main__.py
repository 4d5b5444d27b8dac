import sys

from notify_dev.generate.cli import main

sys.exit(main())
