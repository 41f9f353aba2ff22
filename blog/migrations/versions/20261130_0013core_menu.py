"""menu: the site's navigation menu

Revision ID: 0013core
Revises: 0012core
Create Date: 2026-11-30 23:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013core"
down_revision = "0012core"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "menu_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_menu_item_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["menu_item.id"],
            name=op.f("fk_menu_item_parent_id_menu_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_menu_item_post_id_post"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_menu_item_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_menu_item")),
    )
    with op.batch_alter_table("menu_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_menu_item_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_menu_item_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_menu_item_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_menu_item_tag_id"), ["tag_id"], unique=False)


def downgrade():
    with op.batch_alter_table("menu_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_menu_item_tag_id"))
        batch_op.drop_index(batch_op.f("ix_menu_item_post_id"))
        batch_op.drop_index(batch_op.f("ix_menu_item_parent_id"))
        batch_op.drop_index(batch_op.f("ix_menu_item_category_id"))
    op.drop_table("menu_item")
