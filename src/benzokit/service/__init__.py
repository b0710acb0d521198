"""The monitoring web service: patients check in, clinicians see trends and steer the taper.

It composes the library (plans, safety checks, PK/PD) and the store; nothing in the numerical core
imports it.
"""
