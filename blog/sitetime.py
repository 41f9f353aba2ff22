"""The site's time zone: times are stored in UTC, and shown and typed in `site.timezone`.

Feeds, sitemaps, JSON-LD and `<time datetime>` keep UTC; what people read and type (post
dates, the editor's publish date, archive months, admin messages) is in the site's zone,
so an author in Paris who schedules 09:00 gets 09:00 in Paris.
"""

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app


def is_zone_name(name: str) -> bool:
    """Whether `name` is an IANA time zone such as "Europe/Paris"."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def zone_names() -> list[str]:
    """Every IANA zone name, for the settings page's list."""
    return sorted(available_timezones())


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SITE"]["timezone"])  # checked when config is read


def local(moment: datetime) -> datetime:
    """A stored (naive UTC) time in the site's zone."""
    return moment.replace(tzinfo=UTC).astimezone(site_zone())


def to_utc(local_moment: datetime) -> datetime:
    """A time typed in the site's zone, as stored: naive UTC.

    A time that a clock change skips (02:30 on a spring-forward night) counts as the time
    it would be had the clock not changed; a time it repeats counts as the first.
    """
    aware = local_moment.replace(tzinfo=site_zone())
    return aware.astimezone(UTC).replace(tzinfo=None)


def local_time(moment: datetime | None, format: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A stored time written for people, in the site's zone (the `local_time` filter)."""
    return local(moment).strftime(format) if moment else ""


def utc_iso(moment: datetime) -> str:
    """A stored time as HTML's datetime attributes and feeds want it: whole seconds, Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
