"""page hierarchy: a page's parent page and its place among its parent's pages

Revision ID: 0012core
Revises: 0011core
Create Date: 2026-11-30 22:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012core"
down_revision = "0011core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        # Existing pages are top-level pages, in title order as before.
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("menu_order", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_post_parent_id"), ["parent_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_post_parent_id_post"), "post", ["parent_id"], ["id"], ondelete="SET NULL"
        )


def downgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_post_parent_id_post"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_post_parent_id"))
        batch_op.drop_column("menu_order")
        batch_op.drop_column("parent_id")
