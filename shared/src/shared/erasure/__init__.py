"""The erasure chassis: the ledger table, its repository and the ``identity.user.deleted`` consumer.

The pure part (the ``Erasure`` record, its receipt, the ledger port and the
``erase_user`` use case) is ``shared.kernel.erasure``; the ledger's migration is
``shared.db.migration_ops.create_erasure_ledger_v1``. A service supplies only its
erase rule and wires :func:`shared.erasure.consumer.user_erasure` in its bootstrap.
"""
