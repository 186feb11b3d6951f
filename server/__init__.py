"""Delivery: HTTP, jobs and the command line. Parses input, asks the domain, renders."""

from server.ids import bound_path_ids

bound_path_ids()
