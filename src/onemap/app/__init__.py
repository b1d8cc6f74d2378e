"""Use cases (layer 3): what a user can do, shared by the command line and the API."""
