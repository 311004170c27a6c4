"""Intervals.icu's wellness records as a destination for body measurements (a Withings weigh-in, say).

Items stay one per weigh-in (its source id); the destination id of an item is its local day, and the
record of that day holds fitsync's fields computed from every live weigh-in of the route on that day
(`roles.py`). The pieces: which fields an athlete gets (`fields.py`), one weigh-in's share of its day and
a day's values (`mapping.py`, pure), the weigh-ins and what was sent per day from fitsync's items
(`days.py`), the day at Intervals.icu (`writes.py`) and the history import in bulk (`bulk.py`).
"""
