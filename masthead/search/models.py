from django.db import models


class Word(models.Model):
    """A word the search index holds, with the number of index entries it was seen in.

    Typo tolerance and "Did you mean" read it; the search backend writes it when
    it indexes (``docs`` only grows between rebuilds, so it is an upper bound).
    """

    word = models.CharField(max_length=30, unique=True)
    docs = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "search word"

    def __str__(self) -> str:
        return self.word
