"""File-import settings. The drop folder itself is ``tradelane.settings.import_dir()``
(``TRADELANE_IMPORT_DIR``), shared with the CLI and Dagster."""

SOURCE_NAME = "files"
# Subfolder of the drop folder holding the user's own mapping files.
MAPPINGS_FOLDER = "mappings"
# Which files of a mapping's folder are exports, by format. Amazon's reports download as .txt.
DEFAULT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".txt"),
    "tsv": (".tsv", ".txt", ".tab"),
    "xlsx": (".xlsx", ".xlsm"),
}
# Files nobody dropped on purpose: editor lock files, OS metadata, partial downloads.
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".partial", ".crdownload", ".part", ".tmp")
