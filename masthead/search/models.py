from django.db import models


class Word(models.Model):
    """A word the search index holds, with the number of index entries it was seen in.

    Typo tolerance and "Did you mean" read it; the search backend writes it when
    it indexes. ``docs`` never under-counts: on SQLite it is exact (a write
    adds the words an entry gained and takes off those it lost); on PostgreSQL
    it may only over-count between rebuilds (an edit counts the words it kept
    again; an entry written again unchanged does not count).
    """

    word = models.CharField(max_length=30, unique=True)
    docs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "search word"

    def __str__(self) -> str:
        return self.word
