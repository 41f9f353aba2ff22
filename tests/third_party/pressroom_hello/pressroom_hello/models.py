from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from blog.database import db


class HelloSeen(db.Model):
    __tablename__ = "hello_seen"

    # No foreign key on purpose: post_deleted is what keeps this table in step.
    post_id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
