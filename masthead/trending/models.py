from django.db import models


class ReadBucket(models.Model):
    """The reads of one page in one clock hour (UTC), as counted by the database backend.

    ``page_id`` is a plain integer, not a foreign key: counts are written in
    batches and must not fail because a page was deleted in between.
    """

    page_id = models.PositiveIntegerField()
    hour = models.DateTimeField(help_text="Start of the clock hour (UTC).")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["page_id", "hour"], name="unique_read_bucket")
        ]
        indexes = [models.Index(fields=["hour"], name="trending_bucket_hour")]

    def __str__(self) -> str:
        return f"page {self.page_id} at {self.hour:%Y-%m-%d %H}:00: {self.count}"


class ReadSeen(models.Model):
    """A visitor's read of a page within one repeat window, so the database backend counts it once.

    ``key`` is a keyed hash of (visitor hash, page, window): nothing in it can be
    traced back to a reader. Rows are pruned once their window is over.
    """

    key = models.CharField(max_length=32, primary_key=True)
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key
