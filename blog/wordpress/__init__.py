"""WordPress in and out: reading and writing WXR exports, and turning posts' HTML into Markdown.

wxr.py reads the file, content.py converts post bodies, importer.py and exporter.py
do the work, commands.py and views.py are the command line and the admin page.
"""
