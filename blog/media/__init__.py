"""Media: images uploaded to the library, and the files posts show.

images.py    decoding and cleaning an upload: a few raster formats, no metadata, sizes
storage.py   the library: its files (in a store) and the attachment table
stores.py    where the files live: instance/uploads/ or an S3-compatible bucket
usage.py     which posts show which files, kept in step on every save and import
html.py      images in posts: the Markdown that shows one, srcset in rendered HTML
"""
