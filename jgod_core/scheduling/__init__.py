"""The three phases on their schedule: APScheduler with a persistent job store, XTAI days.
"""
