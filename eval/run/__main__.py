import sys

from eval.run.cli import main

sys.exit(main())
