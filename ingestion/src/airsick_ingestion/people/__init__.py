"""The people a home serves and their places, landed by dlt beside the diary."""
