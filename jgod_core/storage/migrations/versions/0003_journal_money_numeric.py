"""The order journal's prices, fees and taxes become exact ``NUMERIC(20, 4)`` (were ``FLOAT``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MONEY = sa.Numeric(precision=20, scale=4, asdecimal=False).with_variant(sa.Float(), "sqlite")
COLUMNS = {"orders": ("price",), "fills": ("price", "fee", "tax")}
NOT_NULL = {("fills", "price")}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=sa.Float(), type_=MONEY,
                                   existing_nullable=(table, column) not in NOT_NULL)


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=MONEY, type_=sa.Float(),
                                   existing_nullable=(table, column) not in NOT_NULL)
