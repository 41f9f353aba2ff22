"""`import wordpress FILE --media`: the export's images brought into the site's uploads.

Each image attachment, and each image a post shows from another address, is fetched
once through blog/media/remote.py (public addresses only, size and time limits), then
checked, cleaned and sized like any upload (blog/media/storage.add_image), so pages give
it a srcset. Posts are rewritten to the new addresses; WordPress's sized copies
("photo-300x200.jpg") point at their attachment's upload. A file that cannot be fetched
or is refused stays at its old address, and the summary says which and why. The files
are written before the import commits: if it rolls back, discard() removes them.
"""

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from blog.media.images import MediaError
from blog.media.remote import FetchRefused, Policy, fetch
from blog.media.storage import add_image, remove_files
from blog.models import Attachment

# An image a post shows: Markdown's ![alt](address) or an HTML <img src="address">.
SHOWN_IMAGE = re.compile(
    r"!\[[^\]]*\]\(\s*<?(https?://[^)\s>]+)|<img\b[^>]*?\bsrc=\"(https?://[^\"]+)\"",
    re.IGNORECASE,
)
ANY_ADDRESS = re.compile(r"https?://[^\s\"'<>()\[\]]+")
SIZED_COPY = re.compile(r"-\d+x\d+(?=\.\w+$)")


class MediaMover:
    def __init__(self, policy: Policy):
        self.policy = policy
        self.moved: dict[str, str] = {}  # old address -> the upload's address
        self.refused: dict[str, str] = {}  # old address -> why it stayed
        self.written: list[str] = []  # storage keys, removed if the import rolls back

    def attachment(self, url: str, alt_text: str) -> Attachment | None:
        """The image at `url` as a new upload (added, not committed), or None."""
        if url in self.refused:
            return None
        try:
            fetched = fetch(url, self.policy)
            name = unquote(PurePosixPath(urlsplit(fetched.url).path).name)
            attachment, written = add_image(fetched.data, name, alt_text, uploader=None)
        except (FetchRefused, MediaError) as error:
            self.refused[url] = str(error)
            return None
        self.written += written
        self.moved[url] = attachment.url
        return attachment

    def rewrite(self, body: str) -> tuple[str, list[str]]:
        """The body with the images it shows moved into the uploads (and links to moved
        files pointed at them); and, for the summary, each image left where it was."""
        for match in SHOWN_IMAGE.finditer(body):
            url = match.group(1) or match.group(2)
            if self.new_address(url) is None and url not in self.refused:
                self.attachment(url, "")
        left = [
            f"{url}: {self.refused[url]}"
            for url in dict.fromkeys(m.group(1) or m.group(2) for m in SHOWN_IMAGE.finditer(body))
            if self.new_address(url) is None and url in self.refused
        ]
        return ANY_ADDRESS.sub(lambda m: self.new_address(m.group(0)) or m.group(0), body), left

    def new_address(self, url: str) -> str | None:
        if url in self.moved:
            return self.moved[url]
        original = SIZED_COPY.sub("", url)  # WordPress's photo-300x200.jpg of photo.jpg
        return self.moved.get(original) if original != url else None

    def discard(self) -> None:
        remove_files(self.written)
        self.written = []
