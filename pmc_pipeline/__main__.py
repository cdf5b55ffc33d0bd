"""`python -m pmc_pipeline ...`: the same as the `pmc-pipeline` command."""

import sys

from pmc_pipeline.cli import main

sys.exit(main())
