"""Cockpit's Streamlit app — the entrypoint: `streamlit run app.py`.

It only names the pages and sets the page config once; the pages live in `app_pages/`: the
chat (`chat.py`, the default) and the 驾驶舱 board (`board.py`). They share the language, the
as-of date and the role through session state. The folder is not called `pages/`: Streamlit
would take a `pages/` folder beside the entrypoint for its automatic page list and run a
process's first session through that, listing the chat as "app".

Settings are checked here, before any page runs: an unusable value (COCKPIT_AS_OF=xyz, a
broken cockpit.toml) is shown as its one-line message and the app stops — no traceback.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.settings import SettingsError, load_settings
from assistant.ui_helpers import md_escape

# No page icons: the browser tab takes the page's icon, and a Material icon there is fetched
# from fonts.gstatic.com (a failed request offline); the tab shows the local image below.
PAGES = [
    st.Page("app_pages/chat.py", title="对话 · Chat", default=True),
    st.Page("app_pages/board.py", title="驾驶舱 · Board"),
]

# A local image for the browser tab (an emoji or a Material icon would be fetched).
ICON = str(Path(__file__).resolve().parent / "app_pages" / "icon.png")

page = st.navigation(PAGES)
# The browser tab names the page too, so two open tabs can be told apart.
st.set_page_config(page_title=f"Cockpit · {page.title}", page_icon=ICON, layout="wide")
try:
    load_settings()
except SettingsError as err:
    # One line per bad setting; Markdown needs two spaces to keep a line break.
    st.error(md_escape(err.message()).replace("\n", "  \n"), icon=":material/settings:")
    st.stop()
page.run()
