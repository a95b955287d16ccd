def slugify(title):
    """A URL slug: lower case, words joined by dashes."""
    return title.strip().lower()
