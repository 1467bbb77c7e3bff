import sys

from methodology.cli import main

sys.exit(main())
