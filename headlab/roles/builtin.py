"""Built-in roles (registered on import); the sieves are written in sieves.py."""
