"""The SSH transport and the program a push runs on a node. Pure Python: no Django, no database."""
