"""Post-close datasets, adjustments, intraday bars, factor/attribution output, orders and audit;
adds ``daily_bars.trades`` (existing rows keep their values).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adjustment_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('ex_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('price_ratio', sa.Float(), nullable=False),
    sa.Column('cash_dividend', sa.Float(), nullable=True),
    sa.Column('stock_dividend', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('symbol', 'ex_date', 'kind', name='uq_adjustment_events')
    )
    op.create_table('attribution_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.Column('sharpe_30d', sa.Float(), nullable=True),
    sa.Column('max_drawdown', sa.Float(), nullable=True),
    sa.Column('actual_return', sa.Float(), nullable=True),
    sa.Column('predicted_return', sa.Float(), nullable=True),
    sa.Column('residual', sa.Float(), nullable=True),
    sa.Column('trained', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('payload_json', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('date', 'model_version', 'is_real_trade', name='uq_attribution_results')
    )
    op.create_index(op.f('ix_attribution_results_date'), 'attribution_results', ['date'], unique=False)
    op.create_table('audit_records',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload_json', sa.Text(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('hash')
    )
    op.create_table('broker_branch_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('broker_id', sa.String(length=16), nullable=False),
    sa.Column('broker_name', sa.String(length=64), nullable=True),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('buy', sa.BigInteger(), nullable=True),
    sa.Column('sell', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('symbol', 'date', 'broker_id', 'price', name='uq_broker_branch_daily')
    )
    op.create_index(op.f('ix_broker_branch_daily_date'), 'broker_branch_daily', ['date'], unique=False)
    op.create_table('factor_betas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('factor', sa.String(length=64), nullable=False),
    sa.Column('beta', sa.Float(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('trained_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('model_version', 'factor', name='uq_factor_betas')
    )
    op.create_table('factor_values',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('factor', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('beta', sa.Float(), nullable=True),
    sa.Column('betas_json', sa.Text(), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('date', 'symbol', 'factor', 'component', 'model_version', name='uq_factor_values')
    )
    op.create_index(op.f('ix_factor_values_date'), 'factor_values', ['date'], unique=False)
    op.create_table('fills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('fill_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('fee', sa.Float(), nullable=True),
    sa.Column('tax', sa.Float(), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.Column('payload_json', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fill_id')
    )
    op.create_index(op.f('ix_fills_order_id'), 'fills', ['order_id'], unique=False)
    op.create_table('institutional_flows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('investor', sa.String(length=32), nullable=False),
    sa.Column('buy', sa.BigInteger(), nullable=True),
    sa.Column('sell', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('symbol', 'date', 'investor', name='uq_institutional_flows')
    )
    op.create_index(op.f('ix_institutional_flows_date'), 'institutional_flows', ['date'], unique=False)
    op.create_table('intraday_bars',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('contract', sa.String(length=16), nullable=False),
    sa.Column('trade_date', sa.Date(), nullable=False),
    sa.Column('session', sa.String(length=16), nullable=False),
    sa.Column('bar_start', sa.DateTime(), nullable=False),
    sa.Column('bar_minutes', sa.Integer(), nullable=False),
    sa.Column('open', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('close', sa.Float(), nullable=True),
    sa.Column('volume', sa.Float(), nullable=True),
    sa.Column('trades', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instrument', 'contract', 'bar_start', name='uq_intraday_bars')
    )
    op.create_index('ix_intraday_bars_instrument_trade_date', 'intraday_bars', ['instrument', 'trade_date'], unique=False)
    op.create_table('margin_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('margin_purchase_buy', sa.BigInteger(), nullable=True),
    sa.Column('margin_purchase_sell', sa.BigInteger(), nullable=True),
    sa.Column('margin_purchase_cash_repayment', sa.BigInteger(), nullable=True),
    sa.Column('margin_purchase_yesterday_balance', sa.BigInteger(), nullable=True),
    sa.Column('margin_purchase_today_balance', sa.BigInteger(), nullable=True),
    sa.Column('margin_purchase_limit', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_buy', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_sell', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_cash_repayment', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_yesterday_balance', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_today_balance', sa.BigInteger(), nullable=True),
    sa.Column('short_sale_limit', sa.BigInteger(), nullable=True),
    sa.Column('offset_loan_and_short', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('symbol', 'date', name='uq_margin_daily')
    )
    op.create_index(op.f('ix_margin_daily_date'), 'margin_daily', ['date'], unique=False)
    op.create_table('monthly_revenue',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('revenue_twd', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('available_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('symbol', 'month', name='uq_monthly_revenue')
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('parent_order_id', sa.String(length=64), nullable=True),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('symbol', sa.String(length=16), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('order_type', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('broker', sa.String(length=32), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.Column('payload_json', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_index(op.f('ix_orders_parent_order_id'), 'orders', ['parent_order_id'], unique=False)
    op.create_table('trading_state',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ts', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('is_real_trade', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_trading_state_ts'), 'trading_state', ['ts'], unique=False)
    with op.batch_alter_table('daily_bars') as batch:
        batch.add_column(sa.Column('trades', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('daily_bars') as batch:
        batch.drop_column('trades')
    op.drop_index(op.f('ix_trading_state_ts'), table_name='trading_state')
    op.drop_table('trading_state')
    op.drop_index(op.f('ix_orders_parent_order_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_table('monthly_revenue')
    op.drop_index(op.f('ix_margin_daily_date'), table_name='margin_daily')
    op.drop_table('margin_daily')
    op.drop_index('ix_intraday_bars_instrument_trade_date', table_name='intraday_bars')
    op.drop_table('intraday_bars')
    op.drop_index(op.f('ix_institutional_flows_date'), table_name='institutional_flows')
    op.drop_table('institutional_flows')
    op.drop_index(op.f('ix_fills_order_id'), table_name='fills')
    op.drop_table('fills')
    op.drop_index(op.f('ix_factor_values_date'), table_name='factor_values')
    op.drop_table('factor_values')
    op.drop_table('factor_betas')
    op.drop_index(op.f('ix_broker_branch_daily_date'), table_name='broker_branch_daily')
    op.drop_table('broker_branch_daily')
    op.drop_table('audit_records')
    op.drop_index(op.f('ix_attribution_results_date'), table_name='attribution_results')
    op.drop_table('attribution_results')
    op.drop_table('adjustment_events')
