"""Forms of the keys app: the keys page, the import page, and a form's choice of the owner's
keys."""
