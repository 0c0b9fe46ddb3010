"""WSGI apps the tests serve (imported by the server as APP=apps.<name>, with tests/ as the cwd)."""
