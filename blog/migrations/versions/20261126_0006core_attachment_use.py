"""attachment use: which posts show which library files, filled from the posts there are

Revision ID: 0006core
Revises: 0005core
Create Date: 2026-11-26 01:20:00

"""

import sqlalchemy as sa
from alembic import op

from blog.media.usage import rebuild_uses

# revision identifiers, used by Alembic.
revision = "0006core"
down_revision = "0005core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment_use",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_attachment_use_attachment_id_attachment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["post.id"],
            name=op.f("fk_attachment_use_post_id_post"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", "post_id", name=op.f("pk_attachment_use")),
    )
    op.create_index("ix_attachment_use_post_id", "attachment_use", ["post_id", "attachment_id"])
    rebuild_uses(op.get_bind())


def downgrade():
    op.drop_index("ix_attachment_use_post_id", table_name="attachment_use")
    op.drop_table("attachment_use")
