"""The public site: the landing page and the language switch."""
