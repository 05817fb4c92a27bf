"""Reader text → a clean query string. Issue 4 grows this into a query object."""

import unicodedata

MAX_QUERY_LENGTH = 200  # longer input is trimmed with a notice; nobody types more into a search box


def clean_query(text: str) -> tuple[str, str]:
    """Return (query, notice): control characters removed, whitespace folded, length capped."""
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C" or ch in " \t")
    text = " ".join(text.split())
    notice = ""
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH].rsplit(" ", 1)[0] or text[:MAX_QUERY_LENGTH]
        notice = f"Your search was long, so only its first {MAX_QUERY_LENGTH} characters were used."
    return text, notice
