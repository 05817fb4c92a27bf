"""Reading objects for the index, fast, and writing the vocabulary of a rebuild.

modelsearch reads each search field once per index column, a StreamField
through every block's ``get_searchable_content`` and a related field through a
queryset per object. ``FastIndexerMixin`` reads each value once, rich text with
a regular expression, and one-to-many relations (tags, bylines) with one query
per batch (``load_related``); both Masthead backends' indexers use it.
"""

from collections import Counter, defaultdict
from functools import cached_property

from django.core.exceptions import FieldDoesNotExist
from django.db.models import ManyToOneRel
from django.utils.encoding import force_str
from modelsearch.index import AutocompleteField, RelatedFields, SearchField

from masthead.core.text import html_text
from masthead.search.backends.base import WORD_BATCH


def indexer_texts(indexer) -> list[str]:
    """Return every text an ObjectIndexer puts into the index (title, body, autocomplete)."""
    if hasattr(indexer, "prepared"):
        return [value for _field, value in indexer.prepared]
    # modelsearch's own indexers (a backend without FastIndexerMixin)
    texts = []
    for field in indexer.search_fields:
        for prepared in indexer.prepare_field(indexer.obj, field):
            value = prepared[-1]
            if value:
                texts.append(value)
    return texts


def _plain_value_methods() -> tuple:
    from wagtail.blocks import CharBlock, FieldBlock, TextBlock

    return (
        FieldBlock.get_searchable_content,
        CharBlock.get_searchable_content,
        TextBlock.get_searchable_content,
    )


def stream_texts(stream_block, value) -> list[str]:
    """Return the searchable texts of a StreamField value, read from its raw data where it is text.

    Rich text blocks give their text (``core.text.html_text``), character and text
    blocks that keep Wagtail's ``get_searchable_content`` give their value; any
    other block is converted and asked, as Wagtail's StreamBlock does. Blocks
    with ``search_index=False`` give nothing.
    """
    from wagtail.blocks import RichTextBlock

    raw = getattr(value, "raw_data", None)
    if raw is None:
        return stream_block.get_searchable_content(value) if value else []
    plain = _plain_value_methods()
    texts = []
    for i in range(len(raw)):
        item = raw[i]
        block = stream_block.child_blocks.get(item.get("type"))
        if block is None:
            continue
        if isinstance(block, RichTextBlock):
            if block.search_index and item.get("value"):
                texts.append(html_text(force_str(item["value"])))
        elif type(block).get_searchable_content in plain:
            if block.search_index and item.get("value") is not None:
                texts.append(force_str(item["value"]))
        else:
            child = value[i]
            texts.extend(child.block.get_searchable_content(child.value))
    return texts


def field_value(field, obj):
    """Return what ``field.get_value(obj)`` returns, StreamField text read by ``stream_texts``."""
    from wagtail.fields import StreamField

    try:
        model_field = field.get_field(type(obj))
    except FieldDoesNotExist:
        return field.get_value(obj)
    if isinstance(model_field, StreamField):
        return stream_texts(model_field.stream_block, model_field.value_from_object(obj))
    if not model_field.is_relation and not hasattr(model_field, "get_searchable_content"):
        return model_field.value_from_object(obj)  # a plain column, as modelsearch would read it
    return field.get_value(obj)


def _leaf_paths(model, field, prefix: str = "") -> list[tuple[object, str]] | None:
    """Return (leaf field, ORM path) for each Search/AutocompleteField under a RelatedFields.

    None when a leaf is not a plain column (a property, a StreamField, a
    relation), which needs the related object itself.
    """
    paths = []
    for sub in field.fields:
        if not isinstance(sub, (SearchField, AutocompleteField, RelatedFields)):
            continue
        try:
            target = model._meta.get_field(sub.field_name)
        except FieldDoesNotExist:
            return None
        if isinstance(sub, RelatedFields):
            if not (target.many_to_one or (target.one_to_one and target.concrete)):
                return None
            nested = _leaf_paths(target.related_model, sub, f"{prefix}{sub.field_name}__")
            if nested is None:
                return None
            paths.extend(nested)
        elif target.is_relation or not target.concrete or hasattr(target, "get_searchable_content"):
            return None
        else:
            paths.append((sub, prefix + sub.field_name))
    return paths


def load_related(model, objs, batch: int = WORD_BATCH) -> dict[str, tuple[bool, dict]]:
    """Return relation → (texts?, {object pk: [...]}) for the objects' one-to-many RelatedFields.

    One query per relation (tags, bylines) instead of a queryset per object.
    When every field under the relation is a plain column, the lists hold
    ready (field, value) pairs read with ``values_list`` (texts? is True);
    otherwise they hold the related objects, the foreign keys below selected.
    Other relations (many-to-many, properties) are left to modelsearch.
    """
    from django.db.models import OneToOneRel

    pks = [obj.pk for obj in objs]
    found: dict[str, tuple[bool, dict]] = {}
    for field in model.get_search_fields():
        if not isinstance(field, RelatedFields):
            continue
        try:
            rel = model._meta.get_field(field.field_name)
        except FieldDoesNotExist:
            continue
        if not isinstance(rel, ManyToOneRel) or isinstance(rel, OneToOneRel):
            continue
        fk, related_model = rel.field, rel.related_model
        manager = related_model._default_manager
        paths = _leaf_paths(related_model, field)
        groups: dict = defaultdict(list)
        for i in range(0, len(pks), batch):
            rows = manager.filter(**{f"{fk.name}__in": pks[i : i + batch]})
            if paths is not None:
                fields = [leaf for leaf, _path in paths]
                for owner, *values in rows.values_list(fk.attname, *[p for _l, p in paths]):
                    groups[owner].extend(
                        (leaf, force_str(value))
                        for leaf, value in zip(fields, values, strict=True)
                        if value is not None
                    )
            else:
                selects = [
                    sub.field_name
                    for sub in field.fields
                    if isinstance(sub, RelatedFields) and _is_forward(related_model, sub.field_name)
                ]
                for row in rows.select_related(*selects):
                    groups[getattr(row, fk.attname)].append(row)
        found[field.field_name] = (paths is not None, groups)
    return found


def _is_forward(model, name: str) -> bool:
    try:
        target = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(target.many_to_one or (target.one_to_one and target.concrete))


class FastIndexerMixin:
    """Read an object's search field values once, fast: StreamField text and related objects.

    ``related`` (from ``load_related``) holds the batch's related objects; an
    object whose relations live in memory (modelcluster, unsaved children) is
    read the way modelsearch reads it.
    """

    related: dict | None = None

    @cached_property
    def prepared(self) -> list[tuple[object, str]]:
        """Return (field, text) for every non-empty value the object gives the index, in order."""
        return [
            (current, value)
            for field in self.search_fields
            for current, value in self.field_values(self.obj, field)
            if value
        ]

    def related_objects(self, obj, field) -> list:
        """Return the objects a RelatedFields reaches from ``obj`` (the batch's, else modelsearch's way)."""
        name = field.field_name
        cache = getattr(obj, "_prefetched_objects_cache", None)
        if cache and name in cache:
            return list(cache[name])
        sub_obj = field.get_value(obj)
        if sub_obj is None:
            return []
        if hasattr(sub_obj, "all") and callable(sub_obj.all):
            return list(sub_obj.all())
        if callable(sub_obj):
            sub_obj = sub_obj()
        return [sub_obj]

    def field_values(self, obj, field):
        """Yield (field, text) for each Search/AutocompleteField under ``field``, relations followed."""
        if isinstance(field, (SearchField, AutocompleteField)):
            yield field, self.prepare_value(field_value(field, obj))
        elif isinstance(field, RelatedFields):
            name = field.field_name
            if (
                obj is self.obj
                and self.related
                and name in self.related
                and name not in getattr(obj, "_cluster_related_objects", {})
            ):
                texts, groups = self.related[name]
                if texts:
                    yield from groups.get(obj.pk, [])
                    return
                sub_objs = groups.get(obj.pk, [])
            else:
                sub_objs = self.related_objects(obj, field)
            for sub_obj in sub_objs:
                for sub_field in field.fields:
                    yield from self.field_values(sub_obj, sub_field)


class MastheadIndexMixin:
    """What both indexes do around modelsearch's: batch relations, record words, skip title_norm."""

    rebuild_counts: Counter | None = None  # set while a full rebuild collects words

    def _refresh_title_norms(self, full=False):
        """Do nothing: Masthead's ranking does not use title_norm (bm25 / ts_rank normalise)."""

    def make_indexers(self, model, objs, indexer_class) -> list:
        """Return an indexer per object, the batch's related objects fetched in one query each."""
        objs = list(objs)
        related = load_related(model, objs) if objs else {}
        indexers = []
        for obj in objs:
            indexer = indexer_class(obj, self.backend)
            indexer.related = related
            indexers.append(indexer)
        return indexers

    @property
    def counts_words(self) -> bool:
        """Return False while a rebuild whose backend reads the vocabulary from the index runs."""
        return not (self.rebuild_counts is not None and self.backend.vocabulary_from_index)

    def record_words(self, counts: Counter) -> None:
        """Add a batch's words to the vocabulary, or keep them for the end of a rebuild."""
        if self.rebuild_counts is not None:
            self.rebuild_counts.update(counts)
        else:
            self.backend.add_words(counts)


class VocabularyRebuilderMixin:
    """A rebuilder that collects the rebuilt entries' words and replaces the vocabulary at the end."""

    def start(self):
        index = super().start()
        index.rebuild_counts = Counter()
        return index

    def finish(self):
        self.index.backend.rebuild_vocabulary(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None
        super().finish()
