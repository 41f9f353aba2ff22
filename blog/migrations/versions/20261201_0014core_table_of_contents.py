"""a post's table of contents: shown at the top of its body when the author asks

Revision ID: 0014core
Revises: 0013core
Create Date: 2026-12-01 03:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014core"
down_revision = "0013core"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        # Existing posts show none, as before ("[toc]" in a body places one anyway).
        batch_op.add_column(
            sa.Column("table_of_contents", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("table_of_contents")
