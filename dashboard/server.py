"""What `flowdeck dashboard` runs: the Streamlit app (`dashboard/app.py`) behind `HostGuard`.

`streamlit run` sees the `st.App` instance below and serves it with uvicorn, so every HTTP request
and WebSocket upgrade passes the Host check before Streamlit handles it. Streamlit's own
`server.allowedHosts` (set to the same names by the command) checks the WebSocket a second time.
"""

import streamlit as st
from starlette.middleware import Middleware

from dashboard.host_guard import HostGuard

app = st.App("app.py", middleware=[Middleware(HostGuard)])
