"""Discuss (mail's conversations) for apps: pure functions, no model.

``compose``: an app's plain text to the HTML the web composer posts.
``shape``: mail's ``Store`` data to the message and channel dicts of the
routes (doc/discuss.md, "Dicts")."""
