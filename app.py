"""Cockpit's Streamlit app — the entrypoint: `streamlit run app.py`.

It only names the pages and sets the page config once; the pages live in `app_pages/`: the
chat (`chat.py`, the default) and the 驾驶舱 board (`board.py`). They share the language, the
as-of date and the role through session state. The folder is not called `pages/`: Streamlit
would take a `pages/` folder beside the entrypoint for its automatic page list and run a
process's first session through that, listing the chat as "app".
"""

from __future__ import annotations

import streamlit as st

PAGES = [
    st.Page("app_pages/chat.py", title="对话 · Chat", icon=":material/forum:", default=True),
    st.Page("app_pages/board.py", title="驾驶舱 · Board", icon=":material/dashboard:"),
]

page = st.navigation(PAGES)
# The browser tab names the page too, so two open tabs can be told apart.
st.set_page_config(page_title=f"Cockpit · {page.title}", page_icon="📊", layout="wide")
page.run()
