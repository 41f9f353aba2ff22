"""post share generation: share-a-draft links can be withdrawn

Revision ID: 0005core
Revises: 0004core
Create Date: 2026-11-26 01:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005core"
down_revision = "0004core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("share_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("share_generation")
