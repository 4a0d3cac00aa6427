"""Streamlit-side helpers shared by the pages: session state, caching, safe rendering."""
