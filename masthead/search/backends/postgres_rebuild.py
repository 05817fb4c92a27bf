"""The PostgreSQL backend's full rebuild: a shadow table filled without indexes, then swapped in.

``ShadowTable`` holds the swap; ``PendingFlushMixin`` and ``ShadowSwapMixin``
fit it, the pipelined batches (``postgres.MastheadPostgresIndex``) and the
vocabulary (``indexing.VocabularyRebuilderMixin``) into modelsearch's rebuilders.
"""

import logging
import re

from django.db import DatabaseError, transaction
from modelsearch.backends.database.postgres.postgres import (
    IndexEntry,
    PostgresSearchAtomicRebuilder,
    PostgresSearchRebuilder,
)

from masthead.search.backends.indexing import VocabularyRebuilderMixin

logger = logging.getLogger("masthead.search")


class PendingFlushMixin:
    """A rebuilder that writes into a shadow table, swaps it in, and tidies the GIN indexes.

    A full rebuild inside a transaction writes every entry into a new table
    without indexes (``ShadowTable``), builds the indexes once at the end and
    swaps the table in before the transaction commits: readers search the old
    index until then, and an error part-way rolls the new table back with the
    transaction. Upserting into the live table instead cost PostgreSQL a GIN
    insertion per vector, a dead row per entry and a table that grew a third
    larger at each rebuild (9.2 s instead of 7.1 s of its work per 20,000
    articles). Where the swap is not possible (``ShadowTable.planned``),
    entries are upserted as before. Then the batch the index left pending is
    written, and the pending lists of the GIN indexes of the index table and
    the vocabulary are merged into the indexes (``clean_gin_pending_lists``).
    """

    def start(self):
        index = self.index
        index.pending, index.shadow, index.shadow_wanted = None, None, True
        try:
            index = super().start()  # modelsearch's; plans the shadow (``delete_stale_entries``)
        finally:
            self.index.shadow_wanted = False
        if index.shadow is not None:
            index.shadow.open()
        return index

    def finish(self):
        failed = getattr(getattr(self, "transaction", None), "needs_rollback", False)
        if failed or self.index.write_connection.needs_rollback:
            # modelsearch's atomic rebuilder, collected after an error, finishes to roll back.
            self.index.pending, self.index.shadow = None, None
            super().finish()
            return
        swapped = self.index.shadow is not None
        self.index.flush()
        super().finish()  # the vocabulary, then the swap (``ShadowSwapMixin``)
        from masthead.search.models import Word

        if not swapped:  # a new table's GIN indexes have no pending list
            clean_gin_pending_lists(
                self.index.write_connection, [IndexEntry._meta.db_table, Word._meta.db_table]
            )


class ShadowSwapMixin:
    """A rebuilder that swaps its shadow table in last, once the vocabulary is written.

    From the swap to the commit, searches wait: the vocabulary's GIN pending
    list is merged before it, and nothing but the commit comes after.
    """

    def finish(self):
        shadow, self.index.shadow = self.index.shadow, None
        if shadow is not None:
            from masthead.search.models import Word

            clean_gin_pending_lists(self.index.write_connection, [Word._meta.db_table])
            shadow.swap()
        super().finish()


class ShadowTable:
    """A copy of the index table that a full rebuild fills, then swaps in for it.

    ``open`` creates ``<table>_rebuild`` in the rebuild's transaction with the
    columns, defaults, identity, storage and check constraints of the index
    table but no index, and locks the index table against writers: searches go
    on reading it, while an entry written meanwhile (a page published during the
    rebuild) waits for the rebuild's commit and then goes to the new table
    instead of being lost with the old one. ``swap`` builds the indexes and
    foreign keys the index table has (under temporary names), analyzes the new
    table, drops the old one and gives the new table, its indexes, constraints
    and sequence the old names; searches wait only from the drop to the commit.
    """

    SUFFIX = "_rebuild"

    def __init__(self, connection, table: str):
        self.connection = connection
        self.table = table
        self.name = table + self.SUFFIX

    @classmethod
    def planned(cls, connection, table: str) -> "ShadowTable | None":
        """Return a shadow of ``table`` if the rebuild may swap one in, else None.

        That needs an open transaction (so that an error rolls everything back)
        and a plain table the user owns that nothing else depends on: no
        foreign key into it, view, trigger of its own, grant, row security,
        inheritance or publication, all of which a new table would not have.
        """
        if connection.vendor != "postgresql" or not connection.in_atomic_block:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relkind = 'r' AND pg_has_role(current_user, c.relowner, 'USAGE') "
                "AND c.relacl IS NULL AND NOT c.relrowsecurity "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint "
                "WHERE confrelid = c.oid AND conrelid <> c.oid) "
                "AND NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal) "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
                "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = c.oid "
                "AND r.ev_class <> c.oid) "
                "AND NOT EXISTS (SELECT 1 FROM pg_inherits "
                "WHERE inhrelid = c.oid OR inhparent = c.oid) "
                "AND NOT EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid) "
                "AND to_regclass(%s) IS NULL "
                "FROM pg_class c WHERE c.oid = to_regclass(%s)",
                [table + cls.SUFFIX, table],
            )
            row = cursor.fetchone()
        return cls(connection, table) if row and row[0] else None

    def open(self) -> None:
        """Create the empty shadow table (no index yet), and keep other writers of the index table waiting.

        SHARE ROW EXCLUSIVE lets searches read the index table, and makes writers
        of it, and a second rebuild, wait for this one's commit.
        """
        with self.connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {self.table} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(
                f"CREATE TABLE {self.name} (LIKE {self.table} INCLUDING ALL EXCLUDING INDEXES)"
            )

    def copy_indexes(self, cursor) -> list[str]:
        """Give the shadow the index table's indexes and unique constraints; return their renames.

        They get temporary names; the statements returned give them the index
        table's names once it is gone.
        """
        renames = []
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), conindid FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x') ORDER BY conname",
            [self.table],
        )
        constraints = cursor.fetchall()
        backing = {index for _name, _definition, index in constraints}
        cursor.execute(
            "SELECT indexrelid, c.relname, pg_get_indexdef(indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE indrelid = %s::regclass "
            "ORDER BY c.relname",
            [self.table],
        )
        indexes = [(name, sql) for oid, name, sql in cursor.fetchall() if oid not in backing]
        for i, (name, definition, _index) in enumerate(constraints):
            temporary = f"masthead_rebuild_c_{i}"
            cursor.execute(f"ALTER TABLE {self.name} ADD CONSTRAINT {temporary} {definition}")
            renames.append(f'ALTER TABLE {self.table} RENAME CONSTRAINT {temporary} TO "{name}"')
        for i, (name, definition) in enumerate(indexes):
            match = _INDEX_DEF.match(definition)
            if match is None:
                raise DatabaseError(f"Cannot copy index {name}: {definition}")
            temporary = f"masthead_rebuild_i_{i}"
            cursor.execute(f"{match['create']}{temporary} ON {self.name} {match['rest']}")
            renames.append(f'ALTER INDEX {temporary} RENAME TO "{name}"')
        return renames

    def swap(self) -> None:
        """Index and analyze the shadow, add its foreign keys, and put it in the index table's place.

        Indexes are built once here rather than updated batch by batch (tried:
        the GIN insertions made PostgreSQL, not Python, the slower side of the
        pipeline: 83 s instead of 68–71 s at 100,000 articles, although the GIN
        index of the bodies alone takes 6 s to build here). Foreign keys are
        checked in one query rather than row by row.
        """
        with self.connection.cursor() as cursor:
            # An entry written twice keeps its last texts, as ON CONFLICT DO UPDATE did.
            cursor.execute(
                f"DELETE FROM {self.name} a USING {self.name} b "  # noqa: S608
                "WHERE a.content_type_id = b.content_type_id AND a.object_id = b.object_id "
                "AND a.id < b.id"
            )
            renames = self.copy_indexes(cursor)
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
                [self.table],
            )
            for i, (name, definition) in enumerate(cursor.fetchall()):
                temporary = f"masthead_rebuild_fk_{i}"
                cursor.execute(f"ALTER TABLE {self.name} ADD CONSTRAINT {temporary} {definition}")
                renames.append(
                    f'ALTER TABLE {self.table} RENAME CONSTRAINT {temporary} TO "{name}"'
                )
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, 'id'), pg_get_serial_sequence(%s, 'id')",
                [self.table, self.name],
            )
            old_sequence, new_sequence = cursor.fetchone()
            # Statistics now, before searches wait: a new table has none until autovacuum
            # comes, and the typeahead's newest-first plans need them.
            cursor.execute(f"ANALYZE {self.name}")
            # Entries written earlier in the transaction (pages published, then a rebuild)
            # leave deferred foreign key checks, which a table cannot be dropped with.
            cursor.execute(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname) "
                "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND c.condeferrable",
                [self.table],
            )
            deferred = [row[0] for row in cursor.fetchall()]
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} IMMEDIATE")
            cursor.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"DROP TABLE {self.table}")
            cursor.execute(f"ALTER TABLE {self.name} RENAME TO {self.table}")
            for statement in renames:
                cursor.execute(statement)
            if old_sequence and new_sequence:
                cursor.execute(
                    f"ALTER SEQUENCE {new_sequence} RENAME TO {old_sequence.rsplit('.', 1)[-1]}"
                )


# pg_get_indexdef's "CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING …"
_INDEX_DEF = re.compile(
    r"(?P<create>CREATE (?:UNIQUE )?INDEX )\S+ ON (?:ONLY )?\S+ (?P<rest>USING .*)", re.S
)


def clean_gin_pending_lists(connection, tables: list[str]) -> int:
    """Merge the pending lists of the GIN indexes on ``tables`` into the indexes; return pages merged.

    A GIN index (fastupdate, PostgreSQL's default) keeps up to
    ``gin_pending_list_limit`` (4 MB) of new entries in an unsorted pending
    list, which every search through the index reads in full until autovacuum
    merges it. After a rebuild that is the last 4 MB of entries, and the whole
    trigram index of the vocabulary (every typo looked up scanned 44,000
    words: 200–400 ms at 100,000 articles instead of 2 ms). An index the user
    may not clean (not its owner) is left to autovacuum, with a warning.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' "
            "AND i.indrelid = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        names = [row[0] for row in cursor.fetchall()]
    merged = 0
    for name in names:
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
                merged += cursor.fetchone()[0] or 0
        except DatabaseError as error:
            logger.warning("GIN pending list of %s left to autovacuum: %s", name, error)
    return merged


class MastheadPostgresRebuilder(
    PendingFlushMixin, VocabularyRebuilderMixin, ShadowSwapMixin, PostgresSearchRebuilder
):
    pass


class MastheadPostgresAtomicRebuilder(
    PendingFlushMixin, VocabularyRebuilderMixin, ShadowSwapMixin, PostgresSearchAtomicRebuilder
):
    pass
