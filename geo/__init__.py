"""Community-policing data library: contract, loading, validation, joins, demo data (no Streamlit here)."""
