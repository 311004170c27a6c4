"""django-q2's ORM broker, with the job row written in one statement (the embedded default's broker).

With the ORM broker a webhook's job row commits in the webhook's own transaction (fitsync/sync.py), which
holds SQLite's one write lock; the stock broker builds that INSERT with the ORM, which costs several times
the statement itself (fitsync/sql.py). Dequeueing, acknowledging and everything else stay django-q2's.
"""

from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from . import sql


class OrmBroker(ORM):
    def enqueue(self, task: str) -> int:
        row = OrmQ(key=self.list_key or Conf.CLUSTER_NAME, payload=task, lock=timezone.now())
        insert, params = sql.insert_statement(row)
        rows, _ = sql.execute(f"{insert} RETURNING id", params)
        return rows[0][0]
