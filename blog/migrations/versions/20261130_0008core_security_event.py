"""security events: the admins' log of logins, account changes, exports, imports, settings

Revision ID: 0008core
Revises: 0007core
Create Date: 2026-11-30 11:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008core"
down_revision = "0007core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "security_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=60), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("account_name", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["user.id"],
            name=op.f("fk_security_event_account_id_user"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"],
            name=op.f("fk_security_event_actor_id_user"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_event")),
    )  # fmt: skip
    with op.batch_alter_table("security_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_event_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_event_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_security_event_event_created_at", ["event", "created_at"], unique=False
        )


def downgrade():
    op.drop_table("security_event")
