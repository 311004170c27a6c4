"""The routes' sync functions: the only code that names two services together (the table is fitsync/routes.py)."""
