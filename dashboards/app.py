"""Entrypoint of Tradelane's dashboards: ``streamlit run dashboards/app.py``.

It only sets up the frame around the pages (page config, navigation, which published copy is
shown); each page lives in ``app_pages/`` and reads the published copy through ``lib/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards.lib.published_copy import PublishedCopy, current_copy

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"


def source_line(copy: PublishedCopy | None) -> str:
    """The sidebar sentence telling the operator which data they are looking at."""
    if copy is None:
        return "No published copy yet."
    return (
        f"Showing published copy `{copy.path.name}`, "
        f"published {copy.published_at:%Y-%m-%d %H:%M:%S} UTC."
    )


def main() -> None:
    st.set_page_config(page_title="Tradelane", layout="wide")
    page = st.navigation(
        [
            st.Page(
                PAGES_DIR / "overview.py",
                title="Overview",
                icon=":material/dashboard:",
                default=True,
            ),
        ]
    )
    st.sidebar.caption(source_line(current_copy()))
    page.run()


main()
