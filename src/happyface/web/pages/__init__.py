"""The dashboard's HTML pages: overview, category, module, matrix, and their time machine."""
