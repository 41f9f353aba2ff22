"""search index: SQLite FTS5 or PostgreSQL full text, filled from the posts there are

Revision ID: 0004core
Revises: 0003core
Create Date: 2026-11-25 22:20:00

"""

from alembic import op

from blog import search

# revision identifiers, used by Alembic.
revision = "0004core"
down_revision = "0003core"
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    search.create_index_table(connection)
    search.rebuild(connection)


def downgrade():
    op.execute(f"DROP TABLE IF EXISTS {search.TABLE}")
