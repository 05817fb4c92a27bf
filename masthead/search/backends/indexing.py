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
from masthead.search import vocabulary
from masthead.search.backends.base import WORD_BATCH

RAW_STREAMS = "_masthead_raw_streams"  # attname → raw StreamField data, on rows read by IndexRows


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
    raw = getattr(value, "raw_data", None)
    if raw is None:
        return stream_block.get_searchable_content(value) if value else []
    return raw_stream_texts(stream_block, raw, lambda: value)


def raw_stream_texts(stream_block, raw, bound=None) -> list[str]:
    """Return ``stream_texts`` of a StreamField's raw data (a list of {"type", "value"} dicts).

    ``bound()`` gives the StreamValue when a block must be converted to be asked;
    without it the raw data is converted (``stream_block.to_python``) the first
    time a block needs it, and never for rich text and plain text blocks.
    """
    from wagtail.blocks import RichTextBlock

    plain = _plain_value_methods()
    texts = []
    value = None
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
            if value is None:
                value = bound() if bound else stream_block.to_python(list(raw))
            child = value[i]
            texts.extend(child.block.get_searchable_content(child.value))
    return texts


_FIELD_KINDS: dict = {}  # (model, field name) → ("stream" | "column" | "other", model field)


def _field_kind(model, field) -> tuple[str, object]:
    """Return how a Search/AutocompleteField of ``model`` is read, worked out once per model."""
    key = (model, field.field_name)
    kind = _FIELD_KINDS.get(key)
    if kind is None:
        from wagtail.fields import StreamField

        try:
            model_field = field.get_field(model)
        except FieldDoesNotExist:
            kind = ("other", None)
        else:
            if isinstance(model_field, StreamField):
                kind = ("stream", model_field)
            elif not model_field.is_relation and not hasattr(model_field, "get_searchable_content"):
                kind = ("column", model_field)
            else:
                kind = ("other", model_field)
        _FIELD_KINDS[key] = kind
    return kind


def field_value(field, obj):
    """Return what ``field.get_value(obj)`` returns, StreamField text read by ``stream_texts``."""
    kind, model_field = _field_kind(type(obj), field)
    if kind == "stream":
        raw = getattr(obj, RAW_STREAMS, None)
        if raw is not None and model_field.attname in raw:
            return raw_stream_texts(model_field.stream_block, raw[model_field.attname])
        return stream_texts(model_field.stream_block, model_field.value_from_object(obj))
    if kind == "column":
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
        for lookup, wanted in _owner_lookups(fk, pks, batch):
            rows = manager.filter(**lookup)
            if paths is not None:
                fields = [leaf for leaf, _path in paths]
                for owner, *values in rows.values_list(fk.attname, *[p for _l, p in paths]):
                    if wanted is not None and owner not in wanted:
                        continue
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
                    if wanted is None or getattr(row, fk.attname) in wanted:
                        groups[getattr(row, fk.attname)].append(row)
        found[field.field_name] = (paths is not None, groups)
    return found


class RelatedChunk(list):
    """A batch of objects with their ``load_related`` rows, read beforehand (``with_related``)."""

    related: dict


def with_related(model, objs: list) -> RelatedChunk:
    """Return ``objs`` as a RelatedChunk: ``make_indexers`` then skips its own ``load_related``."""
    chunk = RelatedChunk(objs)
    chunk.related = load_related(model, chunk) if chunk else {}
    return chunk


RANGE_SPREAD = 4  # integer pks spread over at most this many times their number are read by range


def _owner_lookups(fk, pks: list, batch: int):
    """Yield (filter kwargs, pks to keep or None) reading the related rows of ``pks``.

    A rebuild's batch is a run of consecutive pks: one range (``__gte``/``__lte``)
    is cheaper to build and run than an IN list of hundreds, and rows of other
    owners inside the range are dropped in Python. Scattered pks go IN lists.
    """
    if pks and all(type(pk) is int for pk in pks):
        low, high = min(pks), max(pks)
        if high - low < RANGE_SPREAD * len(pks):
            yield {f"{fk.name}__gte": low, f"{fk.name}__lte": high}, set(pks)
            return
    for i in range(0, len(pks), batch):
        yield {f"{fk.name}__in": pks[i : i + batch]}, None


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

    def prepare_value(self, value):
        """Return modelsearch's text for a value; a list of texts (a StreamField's) joined at once."""
        if type(value) is list and all(type(item) is str for item in value):
            return ", ".join(value)
        return super().prepare_value(value)

    @cached_property
    def prepared(self) -> list[tuple[object, str]]:
        """Return (field, text) for every non-empty value the object gives the index, in order."""
        obj, out = self.obj, []
        for field in self.search_fields:
            # The object's own fields directly (``field_values`` without a generator each);
            # FilterFields give nothing.
            if isinstance(field, (SearchField, AutocompleteField)):
                value = self.prepare_value(field_value(field, obj))
                if value:
                    out.append((field, value))
            elif isinstance(field, RelatedFields):
                out.extend(pair for pair in self.field_values(obj, field) if pair[1])
        return out

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
    # Worker processes counting a rebuild's words (``services.word_workers``), and their results
    word_pool = None
    word_results: list | tuple = ()  # a rebuild gives the index its own list

    def _refresh_title_norms(self, full=False):
        """Do nothing: Masthead's ranking does not use title_norm (bm25 / ts_rank normalise)."""

    def make_indexers(self, model, objs, indexer_class) -> list:
        """Return an indexer per object, the batch's related objects fetched in one query each."""
        related = objs.related if isinstance(objs, RelatedChunk) else None
        objs = list(objs)
        if related is None:
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

    def record_documents(self, documents: list[list[str]]) -> None:
        """Add the words of a batch's documents (their texts) to the vocabulary (``record_words``).

        During a rebuild given a pool of worker processes (``word_pool``), a
        worker counts them while this process goes on; ``collect_words`` adds
        what the workers have counted.
        """
        pool = self.word_pool
        if pool is None or self.rebuild_counts is None:
            self.record_words(vocabulary.count_documents(documents))
            return
        self.word_results.append(pool.apply_async(vocabulary.count_documents, (documents,)))
        self.collect_words(wait=False)

    def collect_words(self, *, wait: bool = True) -> None:
        """Add the counts the workers have finished (all of them, waiting, with ``wait``)."""
        results = self.word_results
        while results and (wait or results[0].ready()):
            self.record_words(results.pop(0).get())


class VocabularyRebuilderMixin:
    """A rebuilder that collects the rebuilt entries' words and replaces the vocabulary at the end."""

    def start(self):
        index = super().start()
        index.rebuild_counts, index.word_results = Counter(), []
        return index

    def finish(self):
        self.index.collect_words()
        self.index.backend.rebuild_vocabulary(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None
        super().finish()


def row_builder(model, names: list[str], alias: str):
    """Return row → instance, as ``model.from_db(alias, names, row)`` builds it, only faster.

    ``row`` holds the values of ``names`` (attnames, in the model's concrete
    field order); the other fields are deferred and load on access. Wagtail's
    and modelcluster's constructors only act on a page being created (no id)
    or on child objects passed as keywords; for a row read from the database
    they do nothing but cost most of the time (modelcluster lists the model's
    child relations for every object). When no class of the model defines
    another ``__init__``, Django's own constructor alone builds the row (its
    pre_init and post_init signals still fire); otherwise ``from_db`` does.
    """
    from django.db.models.base import DEFERRED, Model
    from modelcluster.models import ClusterableModel
    from wagtail.models.pages import AbstractPage, ShowInMenusMixin

    known = {
        Model.__init__,
        ClusterableModel.__init__,
        AbstractPage.__dict__.get("__init__"),
        ShowInMenusMixin.__dict__.get("__init__"),
        object.__init__,
    }
    if any(klass.__dict__.get("__init__", object.__init__) not in known for klass in model.__mro__):
        return lambda row: model.from_db(alias, names, row)
    if _plain_attributes(model, names):
        return _dict_builder(model, names, alias)
    wanted = set(names)
    fields = model._meta.concrete_fields

    def build(row):
        values = iter(row)
        obj = model.__new__(model)
        Model.__init__(obj, *[next(values) if f.attname in wanted else DEFERRED for f in fields])
        obj._state.adding = False
        obj._state.db = alias
        return obj

    return build


def _plain_attributes(model, names) -> bool:
    """Return True when the constructor would only store ``names`` in the instance's ``__dict__``.

    That is: no pre_init/post_init receivers for the model (an image field's
    dimensions, for one, listen), and no field among ``names`` whose attribute
    converts what is set (a StreamField's does).
    """
    from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
    from django.db.models.query_utils import DeferredAttribute
    from django.db.models.signals import post_init, pre_init

    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return False
    plain = (DeferredAttribute, ForeignKeyDeferredAttribute)
    return all(type(model.__dict__.get(n, getattr(model, n, None))) in plain for n in names)


def _dict_builder(model, names: list[str], alias: str):
    """Return row → instance, the values put straight into ``__dict__`` (see ``_plain_attributes``)."""
    from django.db.models.base import ModelState

    names = tuple(names)

    def build(row):
        obj = model.__new__(model)
        state = obj._state = ModelState()
        state.adding = False
        state.db = alias
        obj.__dict__.update(zip(names, row, strict=True))
        return obj

    return build


class IndexRows:
    """Read a model's objects for the index as rows of values, never as full model instances.

    Only the columns its Search/AutocompleteFields name are read (plus the
    primary key and the queryset's annotations, such as a section title
    ``get_indexed_objects`` adds); StreamFields come as their raw JSON and are
    read by ``raw_stream_texts`` without building a StreamValue. Each row
    becomes a light instance (``row_builder``): its other fields are deferred,
    so a property a search field names still works, loading what it needs.
    ``for_queryset`` returns None where rows cannot stand for the objects (a
    queryset with select_related, prefetches or deferred fields of its own).
    """

    RAW_PREFIX = "_masthead_raw_"

    def __init__(self, queryset):
        from django.db.models import TextField
        from django.db.models.functions import Cast
        from wagtail.fields import StreamField

        model = queryset.model
        opts = model._meta
        columns, streams = set(), []
        for field in model.get_search_fields():
            if not isinstance(field, (SearchField, AutocompleteField)):
                continue
            try:
                target = opts.get_field(field.field_name)
            except FieldDoesNotExist:
                continue  # a property: read on the light instance
            if isinstance(target, StreamField):
                if target not in streams:
                    streams.append(target)
            elif target.concrete and not target.is_relation:
                columns.add(target.attname)
        self.model = model
        self.names = [
            f.attname
            for f in opts.concrete_fields
            if f.attname in columns
            or f.primary_key
            or getattr(f.remote_field, "parent_link", False)
        ]
        self.annotations = list(queryset.query.annotations)
        self.streams = [(f, self.RAW_PREFIX + f.attname) for f in streams]
        self.queryset = queryset.annotate(
            **{alias: Cast(f.attname, TextField()) for f, alias in self.streams}
        )

    @classmethod
    def for_queryset(cls, queryset) -> "IndexRows | None":
        query = queryset.query
        if (
            query.select_related
            or getattr(queryset, "_prefetch_related_lookups", ())
            or query.deferred_loading != (frozenset(), True)
            or query.values_select
        ):
            return None
        return cls(queryset)

    def read(self, queryset) -> list:
        """Return the light instances of ``queryset`` (this reader's queryset, filtered and sliced)."""
        import json

        from django.db import router

        aliases = [alias for _f, alias in self.streams]
        rows = list(queryset.values_list(*self.names, *self.annotations, *aliases))
        build = row_builder(self.model, self.names, queryset.db or router.db_for_read(self.model))
        width, extra = len(self.names), len(self.annotations)
        objs = []
        for row in rows:
            obj = build(row[:width])
            for name, value in zip(self.annotations, row[width : width + extra], strict=True):
                setattr(obj, name, value)
            raw = {}
            for (field, _alias), text in zip(self.streams, row[width + extra :], strict=True):
                data = None
                if text:
                    try:
                        data = json.loads(text)
                    except ValueError:
                        data = None
                if isinstance(data, list):
                    raw[field.attname] = data
                else:  # not the JSON of a stream (legacy text, NULL): Wagtail converts it
                    obj.__dict__[field.attname] = field.to_python(text)
            setattr(obj, RAW_STREAMS, raw)
            objs.append(obj)
        return objs
