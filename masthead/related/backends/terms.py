"""The default related backend: "more like this" over salient terms and names, in Python and SQL.

Each live page becomes a sparse vector of at most ``MAX_FEATURES`` features —
stemmed words and multi-word names (see ``related.text``), its tags and its
authors — weighted BM25-style (saturated, length-normalised term frequency ×
inverse document frequency, with headline and standfirst counting more than the
body). The vectors are stored as an inverted index (``RelatedPosting``).

Two pages are related by the cosine of their vectors, times a time weight
(``decay``: the same developing story links together, a year-old piece does not
crowd out yesterday's) and a small bonus for the same section. The score is
symmetric, which is what makes updates incremental: publishing page A computes
A's list with one index query, and the same rows say which pages' lists A now
enters (it beats their weakest kept suggestion), so nothing else is recomputed.
Editing or unpublishing A recomputes only the lists that held A.

Document frequencies are frozen in ``RelatedTerm.df`` / ``RelatedStats`` when
``rebuild`` refreshes them, so an incremental update gives exactly the lists a
full rebuild would give under the same statistics. On a small site (at most
``AUTO_REFRESH_MAX`` pages) statistics refresh themselves when the site has
grown by ``STATS_GROWTH``; a large site runs ``masthead related rebuild`` from
time to time (nightly is plenty: document frequencies drift slowly).

Never suggested: the page itself, pages that are not live (unpublished,
scheduled), near-duplicates (cosine at least ``DUPLICATE_COSINE`` or the same
headline), and anything scoring under ``MIN_SCORE``.
"""

import json
import math
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from wagtail.fields import StreamField
from wagtail.models import Page

from masthead.related.backends.base import (
    KEEP,
    BaseRelatedBackend,
    Progress,
    Suggestion,
    days_apart_text,
    fast_delete,
    to_days,
)
from masthead.related.models import (
    RelatedDocument,
    RelatedLink,
    RelatedPosting,
    RelatedStats,
    RelatedTerm,
    normalize_headline,
)
from masthead.related.text import document_features, stream_text

# BM25's usual constants: term frequency saturates at K1 + 1; B is the length normalisation.
K1 = 1.2
B = 0.75
MAX_FEATURES = 32  # a story's gist; more features only add common words and slow the index
NAME_WEIGHT = 1.5  # "Lindsay Lohan" as a phrase is stronger evidence than either word
PROPER_BOOST = 1.3  # a word the text capitalises mid-sentence is a name ("Putin")
TAG_WEIGHT = 1.0  # an editor's tag counts as a salient word
AUTHOR_WEIGHT = 0.3  # the same reporter is a weak hint of the same beat
MAX_DF_SHARE = 0.05  # features in more than 5% of pages say little and cost much
MIN_DOCS_FOR_DF_CAP = 1000  # below this, document frequencies are too noisy to cap by
MAX_KEYS = 12  # a page's strongest features, through which it finds its candidates
KEY_MAX_DF_SHARE = 0.005  # a key is a feature of at most 0.5% of pages…
KEY_MIN_DF_CAP = 50  # …or of 50, on a small site…
KEY_MAX_DF = 100  # …and never of more than 100: a term in more stories names a beat, not a story
DUPLICATE_COSINE = 0.85  # the same story filed twice shares nearly all its salient terms
MIN_SCORE = 0.02  # below this a "related" story is noise; the region may then be shorter
SECTION_BOOST = 1.1  # the same section breaks ties between equally similar stories
DECAY_DAYS = 3.0  # stories 3 days apart weigh 1/sqrt(2) of same-day ones…
DECAY_POWER = 0.5  # …30 days apart 0.3, a year apart 0.09
STATS_GROWTH = 0.25  # refresh statistics when the site has grown by a quarter
AUTO_REFRESH_MAX = 2000  # above this, a refresh (a full rebuild) is left to the command
BATCH = 1000  # pages read per query during a rebuild
REASON_TERMS = 3  # evidence words a reason names
RANK_BLOCK = 250  # pages a rebuild ranks per numpy pass (memory: ~200 candidates × 32 each)
REBUILD_CACHE_MB = 256  # SQLite page cache while a rebuild rewrites the index
TOLERANCE = 1e-9  # relative margin around numpy's estimates: rounding is ~1e-16
PARALLEL_MIN = 5000  # a rebuild of fewer pages runs in this process; forking costs more

# What forked rebuild workers read: set before the pool forks, so it is inherited, not pickled.
_FORKED: dict = {}


@dataclass
class Doc:
    """A page's text features before weighting."""

    page_id: int
    day: float
    group_key: str
    title_key: str
    counts: dict[str, float]
    labels: dict[str, str]
    length: float
    weights: list[tuple[str, float]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    norm: float = 0.0


def _walk(instance, lookup: str) -> list[str]:
    """Return the values a ``a__b__c`` lookup reaches from an (unsaved) instance, as strings."""
    values = [instance]
    for part in lookup.split("__"):
        nxt = []
        for value in values:
            attr = getattr(value, part, None)
            if attr is None:
                continue
            if hasattr(attr, "all") and callable(attr.all):
                nxt.extend(attr.all())
            else:
                nxt.append(attr)
        values = nxt
    return [str(v) for v in values if v not in (None, "")]


class TermsBackend(BaseRelatedBackend):
    supports_incremental = True
    supports_reasons = True

    # --- Reading pages ---------------------------------------------------------------------

    def _text_fields(self, model) -> list[tuple[str, float]]:
        names = {f.name for f in model._meta.get_fields()}
        return [
            (name, float(weight))
            for name, weight in self.options.get("TEXT_FIELDS", {"title": 1.0}).items()
            if name in names
        ]

    def _make_doc(self, page_id, path, published, values, fields, tags, authors) -> Doc:
        texts = []
        for (_name, weight), value in zip(fields, values, strict=True):
            if value is None:
                continue
            if hasattr(value, "raw_data"):
                value = list(value.raw_data)
            if isinstance(value, str) and value[:1] == "[" and value[-1:] == "]":
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            if isinstance(value, list | dict):
                # A blank line between blocks ends a sentence and a name.
                texts.append(("\n\n".join(stream_text(value)), weight))
            else:
                texts.append((str(value), weight))
        words, names, proper, labels, length = document_features(texts)
        counts: dict[str, float] = {}
        for key, tf in words.items():
            counts["w:" + key] = tf * PROPER_BOOST if key in proper else tf
        for key, tf in names.items():
            counts["e:" + key] = tf
        # A word's label is kept only where it differs from the key (a capitalised name).
        out_labels = {"w:" + k: v for k, v in labels.items() if v != k and "w:" + k in counts}
        out_labels.update({"e:" + k: labels[k] for k in names})
        for tag in tags:
            key = "t:" + tag.lower()
            counts[key] = 1.0
            out_labels[key] = tag
        for author in authors:
            key = "a:" + author.lower()
            counts[key] = 1.0
            out_labels[key] = author
        title = next((v for (n, _), v in zip(fields, values, strict=True) if n == "title"), "")
        return Doc(
            page_id=page_id,
            day=to_days(published),
            group_key=path[: -Page.steplen],
            title_key=normalize_headline(str(title or ""))[:255],
            counts=counts,
            labels=out_labels,
            length=length,
        )

    def _read(self, ids: Iterable[int] | None = None, progress: Progress | None = None):
        """Yield a Doc for every live page of the indexed models (or those of ``ids``)."""
        for row in self._read_rows(ids, progress):
            yield self._make_doc(*row)

    def _read_rows(self, ids: Iterable[int] | None = None, progress: Progress | None = None):
        """Yield ``_make_doc``'s arguments for every live page of the indexed models (or ``ids``)."""
        wanted = list(ids) if ids is not None else None
        for model in self.page_models():
            fields = self._text_fields(model)
            # StreamFields are read as JSON text: building StreamValues costs more than the text.
            raw, columns = {}, []
            for name, _ in fields:
                if isinstance(model._meta.get_field(name), StreamField):
                    raw[f"raw_{name}"] = Cast(name, TextField())
                    columns.append(f"raw_{name}")
                else:
                    columns.append(name)
            queryset = model.objects.filter(live=True).order_by("pk")
            if wanted is not None:
                queryset = queryset.filter(pk__in=wanted)
            pks = list(queryset.values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                chunk = pks[start : start + BATCH]
                # All live pages: a primary-key range selects the chunk (a list of a
                # thousand ids costs Django more to prepare than the query costs SQLite).
                span = (
                    Q(pk__in=chunk)
                    if wanted is not None
                    else Q(pk__gte=chunk[0], pk__lte=chunk[-1], live=True)
                )
                extra = defaultdict(lambda: ([], []))
                for slot, lookup in (
                    (0, self.options.get("TAGS")),
                    (1, self.options.get("AUTHORS")),
                ):
                    if not lookup:
                        continue
                    rows = (
                        model.objects.filter(span)
                        # Rows with a value only (an inner join): excluding NULLs instead
                        # becomes a NOT EXISTS that PostgreSQL, without statistics on
                        # freshly written tables, ran as nested loops for minutes.
                        .filter(**{f"{lookup}__isnull": False})
                        .values_list("pk", lookup)
                    )
                    for pk, value in rows:
                        if value and value not in extra[pk][slot]:
                            extra[pk][slot].append(value)
                rows = (
                    model.objects.filter(span)
                    .order_by("pk")
                    .annotate(**raw)
                    .values_list("pk", "path", "first_published_at", *columns)
                )
                for pk, path, published, *values in rows:
                    tags, authors = extra[pk] if pk in extra else ([], [])
                    yield (pk, path, published, values, fields, tags, authors)
                if progress:
                    progress(len(chunk))

    def _doc_from_instance(self, page) -> Doc:
        fields = self._text_fields(type(page))
        values = [getattr(page, name, None) for name, _ in fields]
        tags = _walk(page, self.options["TAGS"]) if self.options.get("TAGS") else []
        authors = _walk(page, self.options["AUTHORS"]) if self.options.get("AUTHORS") else []
        published = page.first_published_at or timezone.now()
        path = page.path or ""
        return self._make_doc(
            page.pk or 0,
            path,
            published,
            values,
            fields,
            list(dict.fromkeys(tags)),
            list(dict.fromkeys(authors)),
        )

    # --- Weighting ---------------------------------------------------------------------------

    @staticmethod
    def _stats() -> tuple[int, float]:
        stats = RelatedStats.objects.order_by("pk").first()
        return (stats.documents, stats.average_length) if stats else (0, 0.0)

    @staticmethod
    def _weigh(doc: Doc, df: dict[str, int], total: int, average: float) -> None:
        """Set ``doc.weights`` (its kept features, heaviest first) and ``doc.norm``."""
        norm_length = K1 * (1 - B + B * doc.length / average) if average > 0 else K1
        cap = MAX_DF_SHARE * total if total >= MIN_DOCS_FOR_DF_CAP else math.inf
        weights = []
        for key, tf in doc.counts.items():
            n = df.get(key, 1)
            if n > cap:
                continue
            idf = _idf(n, total)
            kind = key[0]
            if kind == "w":
                weight = idf * tf * (K1 + 1) / (tf + norm_length)
            elif kind == "e":
                weight = NAME_WEIGHT * idf * tf * (K1 + 1) / (tf + norm_length)
            elif kind == "t":
                weight = TAG_WEIGHT * idf * (K1 + 1) / 2
            else:
                weight = AUTHOR_WEIGHT * idf * (K1 + 1) / 2
            weights.append((key, weight))
        weights.sort(key=lambda kw: (-kw[1], kw[0]))
        doc.weights = weights[:MAX_FEATURES]
        doc.norm = math.sqrt(sum(w * w for _, w in doc.weights))
        key_cap = min(max(KEY_MIN_DF_CAP, KEY_MAX_DF_SHARE * total), KEY_MAX_DF)
        eligible = [key for key, _ in doc.weights if df.get(key, 1) <= key_cap]
        doc.keys = set(eligible[:MAX_KEYS])

    # --- Scoring (shared by the incremental path and the rebuild) ----------------------------

    def _score(self, dot, a_norm, b_norm, a_day, b_day, same_group, same_title) -> float | None:
        """Return the pair's score, or None when B must not be suggested for A (and back)."""
        if dot <= 0 or a_norm <= 0 or b_norm <= 0 or same_title:
            return None
        cosine = dot / (a_norm * b_norm)
        if cosine >= DUPLICATE_COSINE:
            return None
        score = cosine * (1.0 + abs(a_day - b_day) / DECAY_DAYS) ** -DECAY_POWER
        if same_group:
            score *= SECTION_BOOST
        return score if score >= MIN_SCORE else None

    @staticmethod
    def _reason(shared: list[tuple[float, str]], same_group: bool, days: float) -> str:
        """Return "shares Putin, Ukraine, Kremlin; tagged Energy; same section; 2 days apart"."""
        shared = sorted(shared, key=lambda cl: (-cl[0], cl[1]))
        words = [label for _, label in shared if label[:2] in ("w:", "e:")][:REASON_TERMS]
        tags = [label for _, label in shared if label[:2] == "t:"][:2]
        authors = [label for _, label in shared if label[:2] == "a:"][:1]
        parts = []
        if words:
            parts.append("shares " + ", ".join(w[2:] for w in words))
        if tags:
            parts.append("tagged " + ", ".join(t[2:] for t in tags))
        if authors:
            parts.append("by " + authors[0][2:])
        if same_group:
            parts.append("same section")
        parts.append(days_apart_text(days))
        return "; ".join(parts)[:255]

    @staticmethod
    def _top(scored: list[tuple[float, int]], limit: int) -> list[tuple[float, int]]:
        return sorted(scored, key=lambda st: (-st[0], st[1]))[:limit]

    # --- The stored index --------------------------------------------------------------------

    @staticmethod
    def _term_rows(keys: list[str]) -> dict[str, tuple[int, int, str]]:
        """Return key → (id, df, label) for the stored terms among ``keys``."""
        found = {}
        for start in range(0, len(keys), 500):
            for pk, key, df, label in RelatedTerm.objects.filter(
                key__in=keys[start : start + 500]
            ).values_list("pk", "key", "df", "label"):
                found[key] = (pk, df, label)
        return found

    def _candidates(self, page_id: int, features: list[tuple[int, float]], keys: set[int]) -> dict:
        """Return page → [dot, day, group_key, title_key, norm, floor, floor_target, shared].

        Candidates are the pages holding one of ``keys``, or holding one of
        ``features`` as a key of their own (a symmetric rule, so incremental
        updates and rebuilds agree); one query reads their weights for ``features``. ``shared`` lists (term_id, product).
        """
        if not features or not keys:
            return {}
        weight_of = dict(features)
        candidates = (
            RelatedPosting.objects.filter(
                Q(term_id__in=sorted(keys)) | Q(term_id__in=sorted(weight_of), is_key=True)
            )
            .exclude(document_id=page_id)
            .values("document_id")
        )
        rows = RelatedPosting.objects.filter(
            document_id__in=candidates, term_id__in=list(weight_of)
        ).values_list(
            "document_id",
            "term_id",
            "weight",
            "document__day",
            "document__group_key",
            "document__title_key",
            "document__norm",
            "document__floor",
            "document__floor_target",
        )
        found: dict[int, list] = {}
        for doc_id, term_id, weight, day, group, title, norm, floor, floor_target in rows:
            entry = found.get(doc_id)
            if entry is None:
                entry = found[doc_id] = [0.0, day, group, title, norm, floor, floor_target, []]
            entry[7].append((term_id, weight_of[term_id] * weight))
        for entry in found.values():
            entry[7].sort()
            dot = 0.0
            for _, product in entry[7]:
                dot += product
            entry[0] = dot
        return found

    def _rank_indexed(self, doc: RelatedDocument, features, keys, labels) -> tuple[list, dict]:
        """Return (ranked [(score, target, reason)], candidates) for an indexed document."""
        found = self._candidates(doc.page_id, features, keys)
        scored = []
        for target, (dot, day, group, title, norm, *_rest) in found.items():
            score = self._score(
                dot,
                doc.norm,
                norm,
                doc.day,
                day,
                group == doc.group_key,
                bool(doc.title_key) and title == doc.title_key,
            )
            if score is not None:
                scored.append((score, target))
        ranked = []
        for score, target in self._top(scored, KEEP):
            entry = found[target]
            shared = [(product, labels.get(term, "")) for term, product in entry[7]]
            reason = self._reason(shared, entry[2] == doc.group_key, doc.day - entry[1])
            ranked.append((score, target, reason))
        return ranked, {t: (s, found[t]) for s, t in scored}

    def _store_ranked(self, page_id: int, ranked: list) -> None:
        fast_delete(RelatedLink.objects.computed().filter(computed_for_id=page_id))
        RelatedLink.objects.bulk_create(
            [
                RelatedLink(computed_for_id=page_id, target_id=t, score=s, reason=r, sort_order=i)
                for i, (s, t, r) in enumerate(ranked)
            ]
        )
        floor, floor_target = (ranked[-1][0], ranked[-1][1]) if len(ranked) >= KEEP else (0.0, 0)
        RelatedDocument.objects.filter(page_id=page_id).update(
            floor=floor, floor_target=floor_target
        )

    def _features_of(self, page_id: int) -> tuple[RelatedDocument, list, set, dict] | None:
        doc = RelatedDocument.objects.filter(page_id=page_id).first()
        if doc is None:
            return None
        rows = list(
            RelatedPosting.objects.filter(document_id=page_id).values_list(
                "term_id", "weight", "is_key", "term__key", "term__label"
            )
        )
        features = sorted((t, w) for t, w, _, _, _ in rows)
        keys = {t for t, _, is_key, _, _ in rows if is_key}
        labels = {t: key[:2] + label for t, _, _, key, label in rows}
        return doc, features, keys, labels

    def _refill(self, page_ids: Iterable[int]) -> None:
        """Recompute the stored lists of ``page_ids`` from the index (they lost a suggestion)."""
        for page_id in page_ids:
            state = self._features_of(page_id)
            if state is None:
                continue
            ranked, _ = self._rank_indexed(*state)
            self._store_ranked(page_id, ranked)

    def _forget(self, page_id: int) -> set[int]:
        """Remove a page from the index and every list; return the pages whose lists held it."""
        held = set(
            RelatedLink.objects.computed()
            .filter(target_id=page_id)
            .values_list("computed_for_id", flat=True)
        )
        fast_delete(
            RelatedLink.objects.computed().filter(Q(target_id=page_id) | Q(computed_for_id=page_id))
        )
        fast_delete(RelatedPosting.objects.filter(document_id=page_id))
        fast_delete(RelatedDocument.objects.filter(page_id=page_id))
        held.discard(page_id)
        return held

    @staticmethod
    def _lists_of(owners: Iterable[int]) -> dict[int, list[tuple[float, int]]]:
        """Return owner → its stored suggestions [(score, target)] for each of ``owners``."""
        lists: dict[int, list[tuple[float, int]]] = {owner: [] for owner in owners}
        owners = sorted(lists)
        for start in range(0, len(owners), 500):
            for owner, target, score in (
                RelatedLink.objects.computed()
                .filter(computed_for_id__in=owners[start : start + 500])
                .values_list("computed_for_id", "target_id", "score")
            ):
                lists[owner].append((score, target))
        return lists

    def _add(self, doc: Doc, held: dict[int, list[tuple[float, int]]] | None = None) -> set[int]:
        """Index a weighed document, store its list and enter it into the lists it now beats.

        ``held`` maps the pages whose lists held this page before an edit to what is
        left of those lists. The page goes straight back into a list when it still
        ranks above the list's weakest remaining story, or when the list was not
        full (it held every story that qualifies). Returns the pages whose lists
        must be recomputed: they were full and the page fell out of them.
        """
        held = held or {}
        refill = set()
        keys = [key for key, _ in doc.weights]
        terms = self._term_rows(keys)
        missing = [key for key in keys if key not in terms]
        if missing:
            RelatedTerm.objects.bulk_create(
                [
                    RelatedTerm(key=k[:120], label=doc.labels.get(k, k[2:])[:120], df=1)
                    for k in missing
                ],
                ignore_conflicts=True,
            )
            terms.update(self._term_rows(missing))
        indexed = RelatedDocument.objects.create(
            page_id=doc.page_id,
            day=doc.day,
            group_key=doc.group_key,
            title_key=doc.title_key,
            norm=doc.norm,
        )
        features = sorted((terms[key][0], weight) for key, weight in doc.weights)
        key_ids = {terms[key][0] for key in doc.keys}
        RelatedPosting.objects.bulk_create(
            [
                RelatedPosting(term_id=t, document_id=doc.page_id, weight=w, is_key=t in key_ids)
                for t, w in features
            ]
        )
        labels = {terms[key][0]: key[:2] + terms[key][2] for key, _ in doc.weights}
        ranked, scored = self._rank_indexed(indexed, features, key_ids, labels)
        self._store_ranked(doc.page_id, ranked)
        # Enter the lists this page now beats (scores are symmetric).
        entering = []
        for owner, items in held.items():
            hit = scored.get(owner)
            was_full = _was_full(items)
            if hit is not None and (
                not was_full or (hit[0], -doc.page_id) > min((s, -t) for s, t in items)
            ):
                continue  # back in the list, through the loop below
            scored.pop(owner, None)
            if was_full:
                refill.add(owner)
        for target, (score, entry) in scored.items():
            floor, floor_target = entry[5], entry[6]
            if (
                target in held
                or floor_target == 0
                or (score, -doc.page_id) > (floor, -floor_target)
            ):
                shared = [(product, labels.get(term, "")) for term, product in entry[7]]
                reason = self._reason(shared, entry[2] == doc.group_key, doc.day - entry[1])
                entering.append(
                    RelatedLink(
                        computed_for_id=target,
                        target_id=doc.page_id,
                        score=score,
                        reason=reason,
                        sort_order=KEEP,
                    )
                )
        if not entering:
            return refill
        RelatedLink.objects.bulk_create(entering)
        owners = [link.computed_for_id for link in entering]
        lists: dict[int, list] = defaultdict(list)
        for pk, owner, target, score in (
            RelatedLink.objects.computed()
            .filter(computed_for_id__in=owners)
            .values_list("pk", "computed_for_id", "target_id", "score")
        ):
            lists[owner].append((score, target, pk))
        drop, floors = [], []
        for owner, items in lists.items():
            items.sort(key=lambda stp: (-stp[0], stp[1]))
            drop.extend(pk for _, _, pk in items[KEEP:])
            kept = items[:KEEP]
            if len(kept) >= KEEP:
                floors.append(
                    RelatedDocument(page_id=owner, floor=kept[-1][0], floor_target=kept[-1][1])
                )
        if drop:
            fast_delete(RelatedLink.objects.filter(pk__in=drop))
        if floors:
            RelatedDocument.objects.bulk_update(floors, ["floor", "floor_target"])
        return refill

    # --- Interface ---------------------------------------------------------------------------

    def index_page(self, page_id: int) -> None:
        page = Page.objects.filter(pk=page_id).only("pk", "live", "content_type").first()
        if page is None or not page.live or not self.handles(page.specific_class):
            self.remove_page(page_id)
            return
        docs = list(self._read([page_id]))
        if not docs:
            self.remove_page(page_id)
            return
        total, average = self._stats()
        doc = docs[0]
        with transaction.atomic():
            df = {key: n for key, (_, n, _) in self._term_rows(list(doc.counts)).items()}
            self._weigh(doc, df, total, average)
            if self._unchanged(doc):
                return
            held = self._forget(page_id)
            refill = self._add(doc, self._lists_of(held))
            self._refill(sorted(refill))
        self._maybe_refresh()

    @staticmethod
    def _unchanged(doc: Doc) -> bool:
        """Return True if ``doc`` is indexed exactly as it is now (a re-publish without changes)."""
        indexed = RelatedDocument.objects.filter(page_id=doc.page_id).first()
        if indexed is None or (indexed.day, indexed.group_key, indexed.title_key, indexed.norm) != (
            doc.day,
            doc.group_key,
            doc.title_key,
            doc.norm,
        ):
            return False
        stored = sorted(
            RelatedPosting.objects.filter(document_id=doc.page_id).values_list(
                "term__key", "weight"
            )
        )
        return stored == sorted((key[:120], weight) for key, weight in doc.weights)

    def remove_page(self, page_id: int) -> None:
        with transaction.atomic():
            held = self._lists_of(self._forget(page_id))
            # A list that was not full held every story that qualifies: it stays right.
            self._refill(sorted(owner for owner, items in held.items() if _was_full(items)))

    def _maybe_refresh(self) -> None:
        limit = int(self.options.get("AUTO_REFRESH_MAX", AUTO_REFRESH_MAX))
        indexed = RelatedDocument.objects.count()
        total, _ = self._stats()
        if indexed <= limit and indexed >= max(1, total * (1 + STATS_GROWTH)) and indexed != total:
            self.rebuild(refresh_stats=True)

    def suggest(self, page, *, limit: int = KEEP) -> list[Suggestion]:
        """Return suggestions for ``page`` as it is now (a draft too), from the stored index.

        Nothing is written; terms the index has never seen cannot match anything.
        """
        doc = self._doc_from_instance(page)
        total, average = self._stats()
        terms = self._term_rows(list(doc.counts))
        self._weigh(doc, {k: n for k, (_, n, _) in terms.items()}, total, average)
        kept = [(key, w) for key, w in doc.weights if key in terms]
        features = sorted((terms[key][0], w) for key, w in kept)
        labels = {terms[key][0]: key[:2] + terms[key][2] for key, _ in kept}
        transient = RelatedDocument(
            page_id=page.pk or 0,
            day=doc.day,
            group_key=doc.group_key,
            title_key=doc.title_key,
            norm=doc.norm,
        )
        key_ids = {terms[key][0] for key in doc.keys if key in terms}
        ranked, _ = self._rank_indexed(transient, features, key_ids, labels)
        return [Suggestion(t, s, r) for s, t, r in ranked[:limit]]

    def rebuild(self, *, progress: Progress | None = None, refresh_stats: bool = True) -> int:
        """Recompute the whole index and every list in one transaction; return the page count.

        ``progress(n)`` is called as pages are read and again as they are ranked,
        2 × pages in all. With ``refresh_stats`` False the frozen statistics are
        kept, which gives exactly the lists incremental updates give.
        """
        # Read in this thread (the pool's feeder thread would open another connection).
        rows = list(self._read_rows(progress=progress))
        workers = self._workers(len(rows))
        if workers > 1:
            docs = self._parallel(_make_docs_chunk, _chunks(rows, BATCH), workers, backend=self)
            docs = [doc for chunk in docs for doc in chunk]
        else:
            docs = [self._make_doc(*row) for row in rows]
        with transaction.atomic(), _large_cache():
            if refresh_stats:
                df: dict[str, int] = defaultdict(int)
                for doc in docs:
                    for key in doc.counts:
                        df[key] += 1
                total = len(docs)
                average = sum(d.length for d in docs) / total if total else 0.0
                terms = {}
            else:
                total, average = self._stats()
                terms = {
                    key: (pk, n, label)
                    for pk, key, n, label in RelatedTerm.objects.values_list(
                        "pk", "key", "df", "label"
                    )
                }
                df = {key: n for key, (_, n, _) in terms.items()}
            for doc in docs:
                self._weigh(doc, df, total, average)
            # On SQLite the links' indexes go while their rows are replaced and are built
            # again once: deleting and inserting a million rows costs half as much
            # without them. Readers keep the committed snapshot (WAL) meanwhile.
            link_indexes = _drop_sqlite_indexes(RelatedLink)
            term_rows = self._prepare_index(docs, df, terms, refresh_stats)
            self._rank_all(
                docs,
                progress,
                meanwhile=lambda: self._write_index(docs, term_rows, refresh_stats, total, average),
            )
            with connection.cursor() as cursor:
                for sql in link_indexes:
                    cursor.execute(sql)
        return len(docs)

    def _prepare_index(self, docs, df, terms, refresh_stats) -> list[tuple]:
        """Number the features of ``docs``; set ``doc.features`` [(term_id, weight)] and the
        maps ranking reads. Return the RelatedTerm rows ``_write_index`` stores on a refresh
        ([] otherwise: terms the frozen statistics lack are stored here, as new terms)."""
        rows = []
        if refresh_stats:
            labels: dict[str, str] = {}
            for doc in docs:
                for key, _ in doc.weights:
                    labels.setdefault(key, doc.labels.get(key, key[2:]))
            keep = {key for key, n in df.items() if n >= 2} | set(labels)
            for key in keep:
                if key not in labels:
                    labels[key] = key[2:]
            rows = [
                (i, key[:120], labels[key][:120], df[key]) for i, key in enumerate(sorted(keep), 1)
            ]
            terms.update({key: (i, n, label) for i, key, label, n in rows})
        else:
            missing = sorted({k for d in docs for k, _ in d.weights if k not in terms})
            if missing:
                labels = {}
                for doc in docs:
                    for key, _ in doc.weights:
                        labels.setdefault(key, doc.labels.get(key, key[2:]))
                RelatedTerm.objects.bulk_create(
                    [RelatedTerm(key=k[:120], label=labels[k][:120], df=1) for k in missing],
                    batch_size=2000,
                )
                terms.update(self._term_rows(missing))
        for doc in docs:
            doc.features = sorted((terms[key][0], weight) for key, weight in doc.weights)
            doc.vector = dict(doc.features)
            doc.key_ids = {terms[key][0] for key in doc.keys}
            doc.term_labels = {terms[key][0]: key[:2] + terms[key][2] for key, _ in doc.weights}
        return rows

    def _write_index(self, docs, term_rows, refresh_stats, total, average) -> None:
        """Replace the stored index with ``docs`` (numbered by ``_prepare_index``) and delete
        the computed lists. Ranking runs meanwhile in forked workers: it reads memory only."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(RelatedLink._meta.db_table)} WHERE computed_for_id IS NOT NULL"
            )
            # Building the postings' indexes once after the insert is several times
            # faster than updating them row by row (plain SQL: transactional DDL on
            # SQLite and PostgreSQL alike; Django's schema editor refuses to run inside
            # a transaction on SQLite).
            for index in RelatedPosting._meta.indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {quote(index.name)}")
            cursor.execute(f"DELETE FROM {quote(RelatedPosting._meta.db_table)}")
            cursor.execute(f"DELETE FROM {quote(RelatedDocument._meta.db_table)}")
        if refresh_stats:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {quote(RelatedTerm._meta.db_table)}")
            self._insert(RelatedTerm, ["id", "key", "label", "df"], term_rows)
            self._reset_sequence(RelatedTerm)
            RelatedStats.objects.all().delete()
            RelatedStats.objects.create(
                documents=total, average_length=average, refreshed_at=timezone.now()
            )
        self._insert(
            RelatedDocument,
            ["page_id", "day", "group_key", "title_key", "norm", "floor", "floor_target"],
            [(d.page_id, d.day, d.group_key, d.title_key, d.norm, 0.0, 0) for d in docs],
        )
        # In document order (each document's features by term id): SQLite's foreign-key
        # checks then walk the documents' table in order, a fifth faster than term order.
        postings = []
        for doc in docs:
            key_ids = doc.key_ids
            postings.extend((t, doc.page_id, w, t in key_ids) for t, w in doc.features)
        self._insert(RelatedPosting, ["term_id", "document_id", "weight", "is_key"], postings)
        table = quote(RelatedPosting._meta.db_table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # PostgreSQL refuses CREATE INDEX on a table with deferred FK checks pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for index in RelatedPosting._meta.indexes:
                columns = ", ".join(
                    quote(RelatedPosting._meta.get_field(name).column) for name in index.fields
                )
                cursor.execute(f"CREATE INDEX {quote(index.name)} ON {table} ({columns})")
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _workers(self, pages: int) -> int:
        """Return how many processes a rebuild of ``pages`` pages uses (OPTIONS["WORKERS"], 0 = all cores)."""
        wanted = int(self.options.get("WORKERS", 0)) or os.cpu_count() or 1
        if pages < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
            return 1
        return max(1, wanted)

    @staticmethod
    def _parallel(function, tasks, workers: int, meanwhile=None, **shared) -> list:
        """Return ``[function(task) for task in tasks]`` computed by ``workers`` forked processes.

        ``shared`` is inherited by the workers (read it from ``_FORKED``) instead of
        being pickled with every task. The workers compute only: they never touch
        the database connection they inherit. ``meanwhile()``, if given, runs in
        this process while they work.
        """
        _FORKED.update(shared)
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pending = pool.imap(function, tasks)
                if meanwhile:
                    meanwhile()
                results = list(pending)
                pool.close()
                pool.join()
                return results
        finally:
            _FORKED.clear()

    def _rank_all(self, docs: list[Doc], progress: Progress | None, meanwhile=None) -> None:
        """Rank every document against the in-memory index and store lists and floors.

        ``meanwhile()`` (the index writes) runs in this process while forked workers
        rank, or first when there are no workers.
        """
        arrays = _rank_arrays(docs)
        ranges = [(start, min(start + BATCH, len(docs))) for start in range(0, len(docs), BATCH)]
        workers = self._workers(len(docs))
        if workers > 1:
            parts = self._parallel(
                _rank_range_forked,
                ranges,
                workers,
                meanwhile=meanwhile,
                backend=self,
                docs=docs,
                arrays=arrays,
            )
        else:
            if meanwhile:
                meanwhile()
            parts = [self._rank_range(docs, arrays, start, stop) for start, stop in ranges]
        links, floors = [], []
        for (start, stop), (part_links, part_floors) in zip(ranges, parts, strict=True):
            links.extend(part_links)
            floors.extend(part_floors)
            if progress:
                progress(stop - start)
        self._store_all(links, floors)

    def _rank_range(self, docs: list[Doc], arrays: dict, start: int, stop: int):
        """Return (link rows, floor rows) for ``docs[start:stop]`` ranked against all ``docs``."""
        links, floors = [], []
        for block in range(start, stop, RANK_BLOCK):
            self._rank_block(docs, arrays, block, min(block + RANK_BLOCK, stop), links, floors)
        return links, floors

    def _rank_block(self, docs, arrays, start, stop, links, floors) -> None:
        """Append the link and floor rows of ``docs[start:stop]`` to ``links`` and ``floors``.

        Candidates follow ``_candidates``' rule (the pages holding one of a page's
        keys, or holding one of its features as their key). Their dot products are
        computed with numpy, summed left to right in term-id order — bit for bit the
        sum ``_candidates`` computes, so incremental updates still equal a rebuild.
        Scores are first estimated in numpy; the ones that can reach a page's top
        KEEP (within a margin far wider than rounding) are computed again with
        ``_score``, so the stored scores and order are exactly the incremental ones.
        """
        terms, weights, valid = arrays["terms"], arrays["weights"], arrays["valid"]
        n = len(docs)
        pairs = [
            # The pages holding one of this page's keys…
            _pairs(
                arrays["posting_ptr"], arrays["posting_docs"], terms, arrays["keys"], start, stop
            ),
            # …and those holding one of its features as their key.
            _pairs(arrays["holder_ptr"], arrays["holder_docs"], terms, valid, start, stop),
        ]
        left = np.concatenate([p[0] for p in pairs])
        right = np.concatenate([p[1] for p in pairs])
        other = left != right
        code = np.sort(left[other] * n + right[other])
        if len(code):
            code = code[np.concatenate(([True], code[1:] != code[:-1]))]
        left, right = code // n, code % n
        if len(code):
            # The block's features as a small dense matrix: row = page, column = local term.
            rows, cols = np.nonzero(valid[start:stop])
            block_terms = terms[start:stop][rows, cols]
            local_terms = np.unique(block_terms)
            local = arrays["local"]
            local[local_terms] = np.arange(1, len(local_terms) + 1)  # column 0 stays zero
            dense = np.zeros((stop - start, len(local_terms) + 1))
            dense[rows, local[block_terms]] = weights[start:stop][rows, cols]
            products = weights[right] * dense[(left - start)[:, None], local[terms[right]]]
            local[local_terms] = 0  # back to "not a term of this block"
            dots = np.cumsum(products, axis=1)[:, -1]
            norm, day = arrays["norm"], arrays["day"]
            cosine = dots / (norm[left] * norm[right])
            estimate = cosine * (1.0 + np.abs(day[left] - day[right]) / DECAY_DAYS) ** (
                -DECAY_POWER
            )
            estimate = np.where(
                arrays["group"][left] == arrays["group"][right],
                estimate * SECTION_BOOST,
                estimate,
            )
            title = arrays["title"]
            same_title = (title[left] >= 0) & (title[left] == title[right])
            ok = (dots > 0) & ~same_title
            loose = ok & (cosine < DUPLICATE_COSINE * (1 + TOLERANCE))
            loose &= estimate >= MIN_SCORE * (1 - TOLERANCE)
            strict = ok & (cosine < DUPLICATE_COSINE * (1 - TOLERANCE))
            strict &= estimate >= MIN_SCORE * (1 + TOLERANCE)
            # The KEEPth best certain score of each page: nothing much below it can rank.
            certain = np.where(strict, estimate, -np.inf)
            order = np.lexsort((-certain, left))
            first = np.searchsorted(left[order], np.arange(start, stop))
            count = np.bincount(left[strict] - start, minlength=stop - start)
            threshold = np.zeros(stop - start)
            full = count >= KEEP
            threshold[full] = certain[order[first[full] + KEEP - 1]] * (1 - TOLERANCE)
            shortlist = np.nonzero(loose & (estimate >= threshold[left - start]))[0]
            short_left = left[shortlist].tolist()
            short_right = right[shortlist].tolist()
            short_dots = dots[shortlist].tolist()
        else:
            short_left = short_right = short_dots = []
        score_pair = self._score
        scored: dict[int, list] = defaultdict(list)
        for i, j, dot in zip(short_left, short_right, short_dots, strict=True):
            doc, other = docs[i], docs[j]
            score = score_pair(
                dot,
                doc.norm,
                other.norm,
                doc.day,
                other.day,
                other.group_key == doc.group_key,
                bool(doc.title_key) and other.title_key == doc.title_key,
            )
            if score is not None:
                scored[i].append((score, other.page_id, other))
        for i in range(start, stop):
            if i not in scored:
                continue
            doc = docs[i]
            top = sorted(scored[i], key=lambda sjo: (-sjo[0], sjo[1]))[:KEEP]
            term_labels, group, day, vector = doc.term_labels, doc.group_key, doc.day, doc.vector
            for rank, (score, target, other) in enumerate(top):
                theirs = other.vector
                shared = [
                    (vector[term] * theirs[term], term_labels[term])
                    for term in vector.keys() & theirs.keys()
                ]
                reason = self._reason(shared, other.group_key == group, day - other.day)
                links.append((rank, doc.page_id, target, "", "", None, False, score, reason, None))
            if len(top) >= KEEP:
                floors.append((top[-1][0], top[-1][1], doc.page_id))

    def _store_all(self, links: list[tuple], floors: list[tuple]) -> None:
        """Insert the ranked link rows and set every document's floor."""
        self._insert(
            RelatedLink,
            [
                "sort_order",
                "computed_for_id",
                "target_id",
                "target_headline",
                "target_key",
                "also_read_after",
                "blocked",
                "score",
                "reason",
                "page_id",
            ],
            links,
        )
        table = connection.ops.quote_name(RelatedDocument._meta.db_table)
        with connection.cursor() as cursor:
            for start in range(0, len(floors), 5000):
                cursor.executemany(
                    f"UPDATE {table} SET floor = %s, floor_target = %s WHERE page_id = %s",
                    floors[start : start + 5000],
                )

    @staticmethod
    def _insert(model, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])

    @staticmethod
    def _reset_sequence(model) -> None:
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(no_style(), [model])
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    # --- Reporting ---------------------------------------------------------------------------

    @staticmethod
    def counts() -> dict:
        """Return what the index holds: pages, terms, postings, stored suggestions."""
        return {
            "pages": RelatedDocument.objects.count(),
            "terms": RelatedTerm.objects.count(),
            "postings": RelatedPosting.objects.count(),
            "suggestions": RelatedLink.objects.computed().aggregate(n=Count("pk"))["n"],
        }


@lru_cache(maxsize=1 << 16)
def _idf(n: int, total: int) -> float:
    """Return BM25's inverse document frequency of a feature held by ``n`` of ``total`` pages."""
    return math.log(1 + (max(total, n) - n + 0.5) / (n + 0.5))


@contextmanager
def _large_cache():
    """On SQLite, give the connection a page cache of REBUILD_CACHE_MB while the block runs.

    A rebuild rewrites several hundred megabytes of rows and indexes in one
    transaction; SQLite's default 2 MB cache spills and re-reads pages all along.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-REBUILD_CACHE_MB * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _drop_sqlite_indexes(model) -> list[str]:
    """On SQLite, drop ``model``'s indexes and return the statements that create them again.

    Elsewhere nothing is dropped (on PostgreSQL, DROP INDEX would lock the table
    against readers until the rebuild commits) and [] comes back.
    """
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL ORDER BY name",
            [model._meta.db_table],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [sql for _, sql in found]


def _was_full(remaining: list) -> bool:
    """Return True if a list that lost one suggestion held KEEP before (it may hide an 11th)."""
    return len(remaining) >= KEEP - 1


def _chunks(items: Iterable, size: int):
    """Yield lists of ``size`` items (the last may be shorter)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _make_docs_chunk(rows: list[tuple]) -> list[Doc]:
    """A rebuild worker's task: the Docs of ``rows`` (see ``TermsBackend._read_rows``)."""
    backend = _FORKED["backend"]
    return [backend._make_doc(*row) for row in rows]


def _rank_range_forked(bounds: tuple[int, int]):
    """A rebuild worker's task: the ranked rows of the documents in ``bounds``."""
    shared = _FORKED
    return shared["backend"]._rank_range(shared["docs"], shared["arrays"], *bounds)


def _rank_arrays(docs: list[Doc]) -> dict:
    """Return the in-memory index ``_rank_block`` reads, as numpy arrays.

    ``terms``/``weights``: one row per document, its features sorted by term id,
    padded with term 0 and weight 0 (``valid`` marks the real ones, ``keys`` its
    keys); ``posting_ptr``/``posting_docs``: for each term id, the documents
    holding it (CSR); ``holder_ptr``/``holder_docs``: those holding it as a key;
    ``norm``, ``day``, ``group`` and ``title`` (-1 for none) per document;
    ``local``: scratch space of one slot per term id.
    """
    n = len(docs)
    lengths = np.fromiter((len(d.features) for d in docs), dtype=np.int64, count=n)
    total = int(lengths.sum())
    flat_terms = np.fromiter((t for d in docs for t, _ in d.features), np.int64, total)
    flat_weights = np.fromiter((w for d in docs for _, w in d.features), np.float64, total)
    flat_keys = np.fromiter(
        (t in d.key_ids for d in docs for t, _ in d.features), dtype=bool, count=total
    )
    width = max(int(lengths.max()) if n else 0, 1)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    terms = np.zeros((n, width), dtype=np.int64)
    weights = np.zeros((n, width))
    valid = np.zeros((n, width), dtype=bool)
    keys = np.zeros((n, width), dtype=bool)
    terms[rows, cols] = flat_terms
    weights[rows, cols] = flat_weights
    valid[rows, cols] = True
    keys[rows, cols] = flat_keys
    size = int(flat_terms.max()) + 2 if total else 2

    def by_term(term_ids, doc_ids):
        ptr = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=size), out=ptr[1:])
        return ptr, doc_ids[np.argsort(term_ids, kind="stable")]

    posting_ptr, posting_docs = by_term(flat_terms, rows)
    holder_ptr, holder_docs = by_term(flat_terms[flat_keys], rows[flat_keys])
    groups: dict[str, int] = {}
    titles: dict[str, int] = {"": -1}
    return {
        "terms": terms,
        "weights": weights,
        "valid": valid,
        "keys": keys,
        "posting_ptr": posting_ptr,
        "posting_docs": posting_docs,
        "holder_ptr": holder_ptr,
        "holder_docs": holder_docs,
        "norm": np.fromiter((d.norm for d in docs), np.float64, n),
        "day": np.fromiter((d.day for d in docs), np.float64, n),
        "group": np.fromiter(
            (groups.setdefault(d.group_key, len(groups)) for d in docs), np.int64, n
        ),
        "title": np.fromiter(
            (titles.setdefault(d.title_key, len(titles) - 1) for d in docs), np.int64, n
        ),
        # Scratch: 0 in every slot = "not a term of the block" (``_rank_block`` sets, resets).
        "local": np.zeros(size, dtype=np.int64),
    }


def _pairs(ptr, members, terms, mask, start: int, stop: int):
    """Return (left, right) page indexes: each page ``i`` in [start, stop), for each of its
    features ``t`` that ``mask`` marks, paired with every page ``members`` lists under ``t``."""
    rows, cols = np.nonzero(mask[start:stop])
    found = terms[start:stop][rows, cols]
    first = ptr[found]
    count = ptr[found + 1] - first
    offsets = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    return np.repeat(rows + start, count), members[offsets]
