"""UTF-8 test vectors shared by the conformance suite and the C unit tests.

Every vector is (case id, description, bytes, valid, fail_at).

- case id: the Autobahn-style conformance case the vector belongs to ("6.7.2").
- valid:   True when the bytes, taken as one complete text message, are valid UTF-8
           (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF; the
           non-characters U+FFFE, U+FDD0.. and friends ARE valid).
- fail_at: the index of the byte whose arrival makes a correct incremental (fail-fast)
           validator reject the data.  Such a validator rejects as soon as no valid
           continuation of the bytes seen so far exists:
             C0, C1 and F5..FF are rejected at once (no UTF-8 sequence starts with them);
             E0 80 is rejected at the 80 (E0 needs A0..BF next), F0 8F at the 8F
             (F0 needs 90..BF), F4 90 at the 90 (F4 needs 80..8F), ED A0 at the A0
             (ED needs 80..9F; ED A0..BF would be a surrogate);
             a lead byte followed by a non-continuation byte is rejected at that byte.
           When every byte is acceptable as a prefix, fail_at == len(bytes):
             for an invalid vector this means the data ends inside a code point, and the
             validator can reject only when the message ends (final fragment received);
             for a valid vector it means nothing is ever rejected.

The list is written out by hand: Markus Kuhn's "UTF-8 decoder capability and stress
test" (sections 1 to 5, complete) arranged in the Autobahn 6.x case numbering, the
payloads of the Autobahn-style 6.1 to 6.4 cases, and a few extra boundary cases (6.24).
Running this file checks every flag and offset against an independent reference
validator and against Python's own UTF-8 codec.
"""

# Frequently used pieces.
KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"       # "κόσμε", Kuhn section 1
HELLO_UTF8 = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode("utf-8")


def _cat(*parts):
    return b"".join(parts)


def _lonely(first, last):
    """Kuhn 3.2: every lead byte in first..last, each followed by a space."""
    return b"".join(bytes([b, 0x20]) for b in range(first, last + 1))


def _fdd0_fdef():
    """Kuhn 5.3.3: the 32 non-characters U+FDD0..U+FDEF, all valid."""
    return "".join(chr(c) for c in range(0xFDD0, 0xFDF0)).encode("utf-8")


_K331 = b"\xc0"
_K332 = b"\xe0\x80"
_K333 = b"\xf0\x80\x80"
_K334 = b"\xf8\x80\x80\x80"
_K335 = b"\xfc\x80\x80\x80\x80"
_K336 = b"\xdf"
_K337 = b"\xef\xbf"
_K338 = b"\xf7\xbf\xbf"
_K339 = b"\xfb\xbf\xbf\xbf"
_K3310 = b"\xfd\xbf\xbf\xbf\xbf"

V = True
X = False

# (case id, description, bytes, valid, fail_at)
VECTORS = [
    # 6.1: zero-length pieces (the fragmentation is done by the suite)
    ("6.1.1", "empty text message", b"", V, 0),
    ("6.1.3", "middle fragment payload", b"middle frame payload", V, 20),

    # 6.2: valid text, split by the suite on and inside code points
    ("6.2.1", "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!", HELLO_UTF8, V, 29),
    ("6.2.4", "kosme (Kuhn 1)", KOSME, V, 11),

    # 6.3 / 6.4: invalid text, the suite varies the fragmentation
    ("6.3.1", "kosme, a lone surrogate U+D800, 'edited'",
     _cat(KOSME, b"\xed\xa0\x80", b"edited"), X, 12),
    ("6.4.1", "kosme, F4 90 80 80 (U+110000), 'edited'",
     _cat(KOSME, b"\xf4\x90\x80\x80", b"edited"), X, 12),

    # 6.5: some valid sequences (Kuhn 1)
    ("6.5.1", "U+0024 between ASCII", b"hello\x24world", V, 11),
    ("6.5.2", "U+00A2 between ASCII", b"hello\xc2\xa2world", V, 12),
    ("6.5.3", "U+20AC between ASCII", b"hello\xe2\x82\xacworld", V, 13),
    ("6.5.4", "U+24B62 between ASCII", b"hello\xf0\xa4\xad\xa2world", V, 14),
    ("6.5.5", "kosme (Kuhn 1)", KOSME, V, 11),

    # 6.6: every prefix of kosme
    ("6.6.1", "kosme prefix 1", KOSME[:1], X, 1),
    ("6.6.2", "kosme prefix 2", KOSME[:2], V, 2),
    ("6.6.3", "kosme prefix 3", KOSME[:3], X, 3),
    ("6.6.4", "kosme prefix 4", KOSME[:4], X, 4),
    ("6.6.5", "kosme prefix 5", KOSME[:5], V, 5),
    ("6.6.6", "kosme prefix 6", KOSME[:6], X, 6),
    ("6.6.7", "kosme prefix 7", KOSME[:7], V, 7),
    ("6.6.8", "kosme prefix 8", KOSME[:8], X, 8),
    ("6.6.9", "kosme prefix 9", KOSME[:9], V, 9),
    ("6.6.10", "kosme prefix 10", KOSME[:10], X, 10),
    ("6.6.11", "kosme prefix 11", KOSME[:11], V, 11),

    # 6.7: Kuhn 2.1.1-2.1.4, first sequence of each length
    ("6.7.1", "Kuhn 2.1.1 U+0000", b"\x00", V, 1),
    ("6.7.2", "Kuhn 2.1.2 U+0080", b"\xc2\x80", V, 2),
    ("6.7.3", "Kuhn 2.1.3 U+0800", b"\xe0\xa0\x80", V, 3),
    ("6.7.4", "Kuhn 2.1.4 U+10000", b"\xf0\x90\x80\x80", V, 4),

    # 6.8: Kuhn 2.1.5-2.1.6, 5- and 6-byte forms (not UTF-8)
    ("6.8.1", "Kuhn 2.1.5 5-byte U+200000", b"\xf8\x88\x80\x80\x80", X, 0),
    ("6.8.2", "Kuhn 2.1.6 6-byte U+4000000", b"\xfc\x84\x80\x80\x80\x80", X, 0),

    # 6.9: Kuhn 2.2.1-2.2.3, last sequence of each length, plus U+10FFFF
    ("6.9.1", "Kuhn 2.2.1 U+007F", b"\x7f", V, 1),
    ("6.9.2", "Kuhn 2.2.2 U+07FF", b"\xdf\xbf", V, 2),
    ("6.9.3", "Kuhn 2.2.3 U+FFFF", b"\xef\xbf\xbf", V, 3),
    ("6.9.4", "U+10FFFF, last 4-byte code point", b"\xf4\x8f\xbf\xbf", V, 4),

    # 6.10: Kuhn 2.2.4-2.2.6, beyond U+10FFFF
    ("6.10.1", "Kuhn 2.2.4 4-byte U+1FFFFF", b"\xf7\xbf\xbf\xbf", X, 0),
    ("6.10.2", "Kuhn 2.2.5 5-byte U+3FFFFFF", b"\xfb\xbf\xbf\xbf\xbf", X, 0),
    ("6.10.3", "Kuhn 2.2.6 6-byte U+7FFFFFFF", b"\xfd\xbf\xbf\xbf\xbf\xbf", X, 0),

    # 6.11: Kuhn 2.3, other boundary conditions
    ("6.11.1", "Kuhn 2.3.1 U+D7FF", b"\xed\x9f\xbf", V, 3),
    ("6.11.2", "Kuhn 2.3.2 U+E000", b"\xee\x80\x80", V, 3),
    ("6.11.3", "Kuhn 2.3.3 U+FFFD", b"\xef\xbf\xbd", V, 3),
    ("6.11.4", "Kuhn 2.3.4 U+10FFFF", b"\xf4\x8f\xbf\xbf", V, 4),
    ("6.11.5", "Kuhn 2.3.5 U+110000", b"\xf4\x90\x80\x80", X, 1),

    # 6.12: Kuhn 3.1, unexpected continuation bytes
    ("6.12.1", "Kuhn 3.1.1 first continuation byte 80", b"\x80", X, 0),
    ("6.12.2", "Kuhn 3.1.2 last continuation byte BF", b"\xbf", X, 0),
    ("6.12.3", "Kuhn 3.1.3 2 continuation bytes", b"\x80\xbf", X, 0),
    ("6.12.4", "Kuhn 3.1.4 3 continuation bytes", b"\x80\xbf\x80", X, 0),
    ("6.12.5", "Kuhn 3.1.5 4 continuation bytes", b"\x80\xbf\x80\xbf", X, 0),
    ("6.12.6", "Kuhn 3.1.6 5 continuation bytes", b"\x80\xbf\x80\xbf\x80", X, 0),
    ("6.12.7", "Kuhn 3.1.7 6 continuation bytes", b"\x80\xbf\x80\xbf\x80\xbf", X, 0),
    ("6.12.8", "Kuhn 3.1.9 all 64 continuation bytes 80..BF", bytes(range(0x80, 0xc0)), X, 0),
    ("6.12.9", "Kuhn 3.1.8 7 continuation bytes", b"\x80\xbf\x80\xbf\x80\xbf\x80", X, 0),

    # 6.13: Kuhn 3.2, lonely start characters, each followed by a space
    ("6.13.1", "Kuhn 3.2.1 C0..DF each followed by a space", _lonely(0xc0, 0xdf), X, 0),
    ("6.13.2", "Kuhn 3.2.2 E0..EF each followed by a space", _lonely(0xe0, 0xef), X, 1),
    ("6.13.3", "Kuhn 3.2.3 F0..F7 each followed by a space", _lonely(0xf0, 0xf7), X, 1),
    ("6.13.4", "Kuhn 3.2.4 F8..FB each followed by a space", _lonely(0xf8, 0xfb), X, 0),
    ("6.13.5", "Kuhn 3.2.5 FC..FD each followed by a space", _lonely(0xfc, 0xfd), X, 0),

    # 6.14: Kuhn 3.3, sequences with the last continuation byte missing
    ("6.14.1", "Kuhn 3.3.1 2-byte U+0000 truncated", _K331, X, 0),
    ("6.14.2", "Kuhn 3.3.2 3-byte U+0000 truncated", _K332, X, 1),
    ("6.14.3", "Kuhn 3.3.3 4-byte U+0000 truncated", _K333, X, 1),
    ("6.14.4", "Kuhn 3.3.4 5-byte U+0000 truncated", _K334, X, 0),
    ("6.14.5", "Kuhn 3.3.5 6-byte U+0000 truncated", _K335, X, 0),
    ("6.14.6", "Kuhn 3.3.6 2-byte U+07FF truncated", _K336, X, 1),
    ("6.14.7", "Kuhn 3.3.7 3-byte U+FFFF truncated", _K337, X, 2),
    ("6.14.8", "Kuhn 3.3.8 4-byte U+1FFFFF truncated", _K338, X, 0),
    ("6.14.9", "Kuhn 3.3.9 5-byte U+3FFFFFF truncated", _K339, X, 0),
    ("6.14.10", "Kuhn 3.3.10 6-byte U+7FFFFFFF truncated", _K3310, X, 0),

    # 6.15: Kuhn 3.4, all of 3.3 concatenated
    ("6.15.1", "Kuhn 3.4 concatenation of incomplete sequences",
     _cat(_K331, _K332, _K333, _K334, _K335, _K336, _K337, _K338, _K339, _K3310), X, 0),

    # 6.16: Kuhn 3.5, impossible bytes
    ("6.16.1", "Kuhn 3.5.1 FE", b"\xfe", X, 0),
    ("6.16.2", "Kuhn 3.5.2 FF", b"\xff", X, 0),
    ("6.16.3", "Kuhn 3.5.3 FE FE FF FF", b"\xfe\xfe\xff\xff", X, 0),

    # 6.17: Kuhn 4.1, overlong '/'
    ("6.17.1", "Kuhn 4.1.1 overlong U+002F, 2 bytes", b"\xc0\xaf", X, 0),
    ("6.17.2", "Kuhn 4.1.2 overlong U+002F, 3 bytes", b"\xe0\x80\xaf", X, 1),
    ("6.17.3", "Kuhn 4.1.3 overlong U+002F, 4 bytes", b"\xf0\x80\x80\xaf", X, 1),
    ("6.17.4", "Kuhn 4.1.4 overlong U+002F, 5 bytes", b"\xf8\x80\x80\x80\xaf", X, 0),
    ("6.17.5", "Kuhn 4.1.5 overlong U+002F, 6 bytes", b"\xfc\x80\x80\x80\x80\xaf", X, 0),

    # 6.18: Kuhn 4.2, maximum overlong sequences
    ("6.18.1", "Kuhn 4.2.1 overlong U+007F", b"\xc1\xbf", X, 0),
    ("6.18.2", "Kuhn 4.2.2 overlong U+07FF", b"\xe0\x9f\xbf", X, 1),
    ("6.18.3", "Kuhn 4.2.3 overlong U+FFFF", b"\xf0\x8f\xbf\xbf", X, 1),
    ("6.18.4", "Kuhn 4.2.4 overlong U+1FFFFF", b"\xf8\x87\xbf\xbf\xbf", X, 0),
    ("6.18.5", "Kuhn 4.2.5 overlong U+3FFFFFF", b"\xfc\x83\xbf\xbf\xbf\xbf", X, 0),

    # 6.19: Kuhn 4.3, overlong NUL
    ("6.19.1", "Kuhn 4.3.1 overlong U+0000, 2 bytes", b"\xc0\x80", X, 0),
    ("6.19.2", "Kuhn 4.3.2 overlong U+0000, 3 bytes", b"\xe0\x80\x80", X, 1),
    ("6.19.3", "Kuhn 4.3.3 overlong U+0000, 4 bytes", b"\xf0\x80\x80\x80", X, 1),
    ("6.19.4", "Kuhn 4.3.4 overlong U+0000, 5 bytes", b"\xf8\x80\x80\x80\x80", X, 0),
    ("6.19.5", "Kuhn 4.3.5 overlong U+0000, 6 bytes", b"\xfc\x80\x80\x80\x80\x80", X, 0),

    # 6.20: Kuhn 5.1, single UTF-16 surrogates
    ("6.20.1", "Kuhn 5.1.1 U+D800", b"\xed\xa0\x80", X, 1),
    ("6.20.2", "Kuhn 5.1.2 U+DB7F", b"\xed\xad\xbf", X, 1),
    ("6.20.3", "Kuhn 5.1.3 U+DB80", b"\xed\xae\x80", X, 1),
    ("6.20.4", "Kuhn 5.1.4 U+DBFF", b"\xed\xaf\xbf", X, 1),
    ("6.20.5", "Kuhn 5.1.5 U+DC00", b"\xed\xb0\x80", X, 1),
    ("6.20.6", "Kuhn 5.1.6 U+DF80", b"\xed\xbe\x80", X, 1),
    ("6.20.7", "Kuhn 5.1.7 U+DFFF", b"\xed\xbf\xbf", X, 1),

    # 6.21: Kuhn 5.2, paired UTF-16 surrogates
    ("6.21.1", "Kuhn 5.2.1 U+D800 U+DC00", b"\xed\xa0\x80\xed\xb0\x80", X, 1),
    ("6.21.2", "Kuhn 5.2.2 U+D800 U+DFFF", b"\xed\xa0\x80\xed\xbf\xbf", X, 1),
    ("6.21.3", "Kuhn 5.2.3 U+DB7F U+DC00", b"\xed\xad\xbf\xed\xb0\x80", X, 1),
    ("6.21.4", "Kuhn 5.2.4 U+DB7F U+DFFF", b"\xed\xad\xbf\xed\xbf\xbf", X, 1),
    ("6.21.5", "Kuhn 5.2.5 U+DB80 U+DC00", b"\xed\xae\x80\xed\xb0\x80", X, 1),
    ("6.21.6", "Kuhn 5.2.6 U+DB80 U+DFFF", b"\xed\xae\x80\xed\xbf\xbf", X, 1),
    ("6.21.7", "Kuhn 5.2.7 U+DBFF U+DC00", b"\xed\xaf\xbf\xed\xb0\x80", X, 1),
    ("6.21.8", "Kuhn 5.2.8 U+DBFF U+DFFF", b"\xed\xaf\xbf\xed\xbf\xbf", X, 1),

    # 6.22: Kuhn 5.3, non-characters (valid UTF-8)
    ("6.22.1", "Kuhn 5.3.1 U+FFFE", b"\xef\xbf\xbe", V, 3),
    ("6.22.2", "Kuhn 5.3.2 U+FFFF", b"\xef\xbf\xbf", V, 3),
    ("6.22.3", "Kuhn 5.3.4 U+1FFFE", b"\xf0\x9f\xbf\xbe", V, 4),
    ("6.22.4", "Kuhn 5.3.4 U+1FFFF", b"\xf0\x9f\xbf\xbf", V, 4),
    ("6.22.5", "Kuhn 5.3.4 U+2FFFE", b"\xf0\xaf\xbf\xbe", V, 4),
    ("6.22.6", "Kuhn 5.3.4 U+2FFFF", b"\xf0\xaf\xbf\xbf", V, 4),
    ("6.22.7", "Kuhn 5.3.4 U+3FFFE", b"\xf0\xbf\xbf\xbe", V, 4),
    ("6.22.8", "Kuhn 5.3.4 U+3FFFF", b"\xf0\xbf\xbf\xbf", V, 4),
    ("6.22.9", "Kuhn 5.3.4 U+4FFFE", b"\xf1\x8f\xbf\xbe", V, 4),
    ("6.22.10", "Kuhn 5.3.4 U+4FFFF", b"\xf1\x8f\xbf\xbf", V, 4),
    ("6.22.11", "Kuhn 5.3.4 U+5FFFE", b"\xf1\x9f\xbf\xbe", V, 4),
    ("6.22.12", "Kuhn 5.3.4 U+5FFFF", b"\xf1\x9f\xbf\xbf", V, 4),
    ("6.22.13", "Kuhn 5.3.4 U+6FFFE", b"\xf1\xaf\xbf\xbe", V, 4),
    ("6.22.14", "Kuhn 5.3.4 U+6FFFF", b"\xf1\xaf\xbf\xbf", V, 4),
    ("6.22.15", "Kuhn 5.3.4 U+7FFFE", b"\xf1\xbf\xbf\xbe", V, 4),
    ("6.22.16", "Kuhn 5.3.4 U+7FFFF", b"\xf1\xbf\xbf\xbf", V, 4),
    ("6.22.17", "Kuhn 5.3.4 U+8FFFE", b"\xf2\x8f\xbf\xbe", V, 4),
    ("6.22.18", "Kuhn 5.3.4 U+8FFFF", b"\xf2\x8f\xbf\xbf", V, 4),
    ("6.22.19", "Kuhn 5.3.4 U+9FFFE", b"\xf2\x9f\xbf\xbe", V, 4),
    ("6.22.20", "Kuhn 5.3.4 U+9FFFF", b"\xf2\x9f\xbf\xbf", V, 4),
    ("6.22.21", "Kuhn 5.3.4 U+AFFFE", b"\xf2\xaf\xbf\xbe", V, 4),
    ("6.22.22", "Kuhn 5.3.4 U+AFFFF", b"\xf2\xaf\xbf\xbf", V, 4),
    ("6.22.23", "U+BFFFE", b"\xf2\xbf\xbf\xbe", V, 4),
    ("6.22.24", "U+BFFFF", b"\xf2\xbf\xbf\xbf", V, 4),
    ("6.22.25", "U+CFFFE", b"\xf3\x8f\xbf\xbe", V, 4),
    ("6.22.26", "U+CFFFF", b"\xf3\x8f\xbf\xbf", V, 4),
    ("6.22.27", "U+DFFFE", b"\xf3\x9f\xbf\xbe", V, 4),
    ("6.22.28", "U+DFFFF", b"\xf3\x9f\xbf\xbf", V, 4),
    ("6.22.29", "U+EFFFE", b"\xf3\xaf\xbf\xbe", V, 4),
    ("6.22.30", "U+EFFFF", b"\xf3\xaf\xbf\xbf", V, 4),
    ("6.22.31", "U+FFFFE", b"\xf3\xbf\xbf\xbe", V, 4),
    ("6.22.32", "U+FFFFF", b"\xf3\xbf\xbf\xbf", V, 4),
    ("6.22.33", "U+10FFFE", b"\xf4\x8f\xbf\xbe", V, 4),
    ("6.22.34", "U+10FFFF", b"\xf4\x8f\xbf\xbf", V, 4),
    ("6.22.35", "Kuhn 5.3.3 U+FDD0..U+FDEF", _fdd0_fdef(), V, 96),

    # 6.23: the Specials block
    ("6.23.1", "U+FFF9", b"\xef\xbf\xb9", V, 3),
    ("6.23.2", "U+FFFA", b"\xef\xbf\xba", V, 3),
    ("6.23.3", "U+FFFB", b"\xef\xbf\xbb", V, 3),
    ("6.23.4", "U+FFFC", b"\xef\xbf\xbc", V, 3),
    ("6.23.5", "U+FFFD replacement character", b"\xef\xbf\xbd", V, 3),
    ("6.23.6", "U+FFFE", b"\xef\xbf\xbe", V, 3),
    ("6.23.7", "U+FFFF", b"\xef\xbf\xbf", V, 3),

    # 6.24: second-byte boundaries of every lead byte class, and invalid bytes after text
    ("6.24.1", "C2 80 lowest 2-byte", b"\xc2\x80", V, 2),
    ("6.24.2", "C2 7F lead then ASCII", b"\xc2\x7f", X, 1),
    ("6.24.3", "C2 C0 lead then non-continuation", b"\xc2\xc0", X, 1),
    ("6.24.4", "E0 9F 80 overlong 3-byte", b"\xe0\x9f\x80", X, 1),
    ("6.24.5", "E0 A0 80 lowest 3-byte", b"\xe0\xa0\x80", V, 3),
    ("6.24.6", "E1 80 80 U+1000", b"\xe1\x80\x80", V, 3),
    ("6.24.7", "EC BF BF U+CFFF", b"\xec\xbf\xbf", V, 3),
    ("6.24.8", "ED 9F BF U+D7FF", b"\xed\x9f\xbf", V, 3),
    ("6.24.9", "ED A0 surrogate prefix", b"\xed\xa0", X, 1),
    ("6.24.10", "EE 80 80 U+E000", b"\xee\x80\x80", V, 3),
    ("6.24.11", "F0 8F overlong 4-byte prefix", b"\xf0\x8f", X, 1),
    ("6.24.12", "F0 90 80 80 U+10000", b"\xf0\x90\x80\x80", V, 4),
    ("6.24.13", "F1 80 80 80 U+40000", b"\xf1\x80\x80\x80", V, 4),
    ("6.24.14", "F3 BF BF BF U+FFFFF", b"\xf3\xbf\xbf\xbf", V, 4),
    ("6.24.15", "F4 90 above U+10FFFF prefix", b"\xf4\x90", X, 1),
    ("6.24.16", "F5 80 80 80 lead byte above F4", b"\xf5\x80\x80\x80", X, 0),
    ("6.24.17", "E0 80 overlong prefix", b"\xe0\x80", X, 1),
    ("6.24.18", "F4 8F BF C0 bad last byte", b"\xf4\x8f\xbf\xc0", X, 3),
    ("6.24.19", "text then a lone continuation byte", b"abc\xc3\xa9\x80def", X, 5),
    ("6.24.20", "text then E2 82 truncated at the end", b"price: \xe2\x82", X, 9),
    ("6.24.21", "text then C1 (never valid)", b"abc\xc1\x81", X, 3),
    ("6.24.22", "4-byte sequence cut by ASCII", b"\xf0\x9f\x98A", X, 3),
    ("6.24.23", "emoji U+1F600 twice", b"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", V, 8),
    ("6.24.24", "NUL bytes in text", b"a\x00b\x00", V, 4),
]


def reference_check(data):
    """Independent incremental validator: returns (valid, fail_at) for data."""
    need = 0
    lo, hi = 0x80, 0xBF
    for i, b in enumerate(data):
        if need:
            if not lo <= b <= hi:
                return False, i
            need -= 1
            lo, hi = 0x80, 0xBF
        elif b < 0x80:
            continue
        elif 0xC2 <= b <= 0xDF:
            need = 1
        elif b == 0xE0:
            need, lo = 2, 0xA0
        elif b == 0xED:
            need, hi = 2, 0x9F
        elif 0xE1 <= b <= 0xEF:
            need = 2
        elif b == 0xF0:
            need, lo = 3, 0x90
        elif b == 0xF4:
            need, hi = 3, 0x8F
        elif 0xF1 <= b <= 0xF3:
            need = 3
        else:
            return False, i
    if need:
        return False, len(data)
    return True, len(data)


def by_case():
    """Map case id -> (description, bytes, valid, fail_at)."""
    return {v[0]: v[1:] for v in VECTORS}


def _self_test():
    import codecs
    seen = set()
    problems = 0
    for cid, desc, data, valid, fail_at in VECTORS:
        if cid in seen:
            print("duplicate id", cid)
            problems += 1
        seen.add(cid)
        ok, at = reference_check(data)
        try:
            data.decode("utf-8")
            py_ok = True
        except UnicodeDecodeError:
            py_ok = False
        if (ok, at) != (valid, fail_at) or py_ok != valid:
            print("mismatch %s %r: listed (%s, %d), reference (%s, %d), python %s"
                  % (cid, data, valid, fail_at, ok, at, py_ok))
            problems += 1
        if not valid and fail_at < len(data):
            # everything before fail_at is an acceptable prefix, adding the byte is not
            dec = codecs.getincrementaldecoder("utf-8")()
            try:
                dec.decode(data[:fail_at], final=False)
            except UnicodeDecodeError:
                print("prefix before fail_at already invalid:", cid)
                problems += 1
    print("%d vectors, %d valid, %d invalid, %d problems"
          % (len(VECTORS), sum(1 for v in VECTORS if v[3]),
             sum(1 for v in VECTORS if not v[3]), problems))
    return problems == 0


if __name__ == "__main__":
    import sys
    sys.exit(0 if _self_test() else 1)
