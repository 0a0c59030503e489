"""A stand-in for python3-application (see configuration.py), for the tests only."""
