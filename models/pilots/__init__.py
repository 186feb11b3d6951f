"""Pilots: a selected proposal tried out for real, its KPIs measured, its milestones, residents' feedback."""
