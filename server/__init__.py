"""Delivery: HTTP, jobs and the command line. Parses input, asks the domain, renders."""
