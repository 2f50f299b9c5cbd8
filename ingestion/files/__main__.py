"""``python -m ingestion.files``: load the drop folder's new and changed exports once.

``--check`` loads nothing: it validates every mapping and reads every export in the folder,
printing what would load and what would be refused, and exits 1 if anything would be.
"""

import argparse
import sys

from ingestion.common.pipeline import make_pipeline, run_source
from ingestion.files import files_source, settings
from ingestion.files.check import check_import_dir
from tradelane import settings as tradelane_settings

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m ingestion.files", description=__doc__)
    parser.add_argument("--import-dir", help="drop folder (default: TRADELANE_IMPORT_DIR)")
    parser.add_argument("--check", action="store_true", help="validate only, load nothing")
    parser.add_argument("--reload-all", action="store_true", help="read every file again")
    args = parser.parse_args()
    import_dir = args.import_dir or str(tradelane_settings.import_dir())
    if args.check:
        report, ok = check_import_dir(import_dir)
        print(report)
        sys.exit(0 if ok else 1)
    source = files_source(import_dir=import_dir, reload_all=args.reload_all)
    print(run_source(make_pipeline(settings.SOURCE_NAME), source, settings.SOURCE_NAME))
