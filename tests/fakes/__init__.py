"""Test doubles at the edges of the app (the SSH transport), for the fast tier."""
