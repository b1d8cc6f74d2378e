"""Registers (台账): schema, lifecycle and computations as data, one engine for every ledger.

- :mod:`~onemap.ledgers.flow`: the lifecycle model (shared with enforcement cases);
- :mod:`~onemap.ledgers.schema`: a register's fields, code lists, synonyms and geometry;
- :mod:`~onemap.ledgers.rows`: checking imported rows against the schema;
- :mod:`~onemap.ledgers.tables`: reading XLSX/CSV and geodata files into rows;
- :mod:`~onemap.ledgers.farmland`: 占补平衡 accounts on three measures;
- :mod:`~onemap.ledgers.balance`: 耕地 decrease and increase from change detection.

Pure functions; the use cases live in :mod:`onemap.app.ledgers`, the tables in
:mod:`onemap.store.ledgers`.
"""
