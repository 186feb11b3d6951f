"""Kyoso Partners, the talent pool: digital experts register (consent, profile, skills), operators vet
them, agencies post needs and get a ranked match list, invite partners, and accepted invitations become
placements. Domain only: no HTTP; who may see and do what is in models.policy.partners.
"""
