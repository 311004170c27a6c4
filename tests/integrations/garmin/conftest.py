from . import fixtures

fake, garmin_url, garmin_account = fixtures.fake, fixtures.garmin_url, fixtures.garmin_account
jobs, post = fixtures.jobs, fixtures.post
