"""The servers the browser tests and the audits run on close every response."""

import socket
import struct
import threading

from werkzeug.serving import make_server

from audit.site import closing_responses


def test_a_response_is_closed_when_the_browser_hangs_up():
    sent, hung_up, closed = threading.Event(), threading.Event(), threading.Event()

    class FileLikeResponse:
        def __iter__(self):
            yield b"icon"
            sent.set()
            hung_up.wait(5)

        def close(self):
            closed.set()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "4")])
        return FileLikeResponse()

    server = make_server("127.0.0.1", 0, closing_responses(app), threaded=False)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    with socket.create_connection(("127.0.0.1", server.server_port)) as browser:
        browser.sendall(b"GET /favicon.svg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sent.wait(5)
        # Gone mid-response: a reset, which the server meets reading the rest of the request.
        browser.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    hung_up.set()
    thread.join(5)
    server.server_close()
    assert closed.wait(5)
