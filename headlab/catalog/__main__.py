"""``python -m headlab.catalog search|show|bibtex|list|head|export-json ...``"""

import sys

from headlab.catalog.cli import main

sys.exit(main())
