"""Pictures for the demo's mail, drawn here in a few rectangles and written as PNG with zlib: nothing is
downloaded and no imaging library is needed."""

from __future__ import annotations

import struct
import zlib

Colour = tuple[int, int, int]
# (left, top, right, bottom, colour): a rough phone screen of the app's "withdrawal pending" page.
WITHDRAWAL_SCREEN: list[tuple[int, int, int, int, Colour]] = [
    (0, 0, 240, 36, (11, 110, 79)),  # the app's top bar
    (12, 12, 80, 24, (227, 242, 236)),  # its title
    (12, 52, 228, 196, (255, 255, 255)),  # the card
    (24, 66, 140, 78, (82, 92, 110)),  # "Saque" label
    (24, 90, 180, 116, (29, 36, 51)),  # the amount, in large type
    (24, 130, 118, 148, (154, 63, 6)),  # the "em análise" badge
    (30, 136, 112, 142, (255, 244, 229)),
    (24, 162, 210, 168, (213, 218, 225)),  # two lines of small print
    (24, 176, 170, 182, (213, 218, 225)),
    (12, 212, 228, 244, (11, 110, 79)),  # the button
    (84, 224, 156, 232, (255, 255, 255)),
]


def draw_png(width: int, height: int, background: Colour, shapes) -> bytes:
    """A truecolour PNG of the given rectangles over a background, the later ones on top."""
    rows = []
    for y in range(height):
        row = bytearray(bytes(background) * width)
        for left, top, right, bottom, colour in shapes:
            if top <= y < bottom:
                start, end = max(0, left), min(width, right)
                row[start * 3 : end * 3] = bytes(colour) * (end - start)
        rows.append(b"\x00" + bytes(row))  # filter type 0 on every scanline

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def withdrawal_screen() -> bytes:
    """What a requester's screenshot of a held withdrawal looks like, as a 240x256 PNG."""
    return draw_png(240, 256, (244, 246, 248), WITHDRAWAL_SCREEN)
