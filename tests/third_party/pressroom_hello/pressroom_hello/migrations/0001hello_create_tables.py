"""hello: create tables

Revision ID: 0001hello
Revises:
Create Date: 2026-11-25

"""

import sqlalchemy as sa
from alembic import op

revision = "0001hello"
down_revision = None
branch_labels = ("hello",)
depends_on = "0001core"


def upgrade():
    op.create_table(
        "hello_seen",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_hello_seen")),
    )


def downgrade():
    op.drop_table("hello_seen")
