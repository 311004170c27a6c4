"""Garmin Connect: the destination of Withings weigh-ins, through garminconnect 0.3.20.

    client.py       the library calls we make and the one mapping of its exceptions onto fitsync.errors
                    (garminconnect does its own HTTP: the accepted exception to the fitsync.http chokepoint)
    fit.py          our FIT weight-scale encoder (the library's truncates scaled values)
    mapping.py      BodyMeasurement -> WeightRecord; which Garmin weigh-in counts as "the same"
    weights.py      dedup read, upload, read-back of samplePk (repeated: Garmin lists a 202 upload later),
                    replace/delete exactly that weigh-in
    destination.py  one SyncItem in, one SyncResult out (called by roles.py, the route's destination)
    auth.py         browser login in a background job; MFA; a pasted token file; writes the Credential
    session.py      jobs' clients from stored tokens only; single-flight refresh; token write-back
    keepalive.py    the daily refresh that keeps the 30-day refresh token alive; the sign-in's age
    login_state.py  the login's visible state and the 429 cooldown, in ConnectedAccount.meta
    account_meta.py GarminMeta: every key Garmin keeps in ConnectedAccount.meta, with its type
    views.py, forms.py, urls.py, tasks.py

The password is never stored: django-q2 pickles task arguments into its table, so the connect view
encrypts the password into Credential.pending_blob (2-minute expiry) and the login job, which gets only
the account id, wipes it as it starts. See auth.py.
"""
