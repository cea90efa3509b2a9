"""The lab's DNS server over UDP and TCP: the project's own decoder, and dig (bind9-dnsutils)."""

from __future__ import annotations

import socket
import struct
import subprocess
from collections.abc import Iterator

import pytest

from netbench.core import dns
from netbench.core.dns import Message, TcpDeframer, build_query, decode_message, frame_tcp
from netbench.lab import Lab, running
from netbench.lab.dns import answer
from tests.support.lab_clients import optional_binary
from tests.support.sockets import read_until_eof

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with running("dns") as servers:
        yield servers


def udp_ask(port: int, query: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(query, ("127.0.0.1", port))
        return sock.recv(65535)


def tcp_ask(port: int, *queries: bytes) -> list[bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(b"".join(frame_tcp(q) for q in queries))
        deframer = TcpDeframer()
        got: list[bytes] = []
        while len(got) < len(queries):
            chunk = sock.recv(65536)
            assert chunk, "closed early"
            deframer.feed(chunk)
            while (message := deframer.next_message()) is not None:
                got.append(message)
        return got


def ask(lab: Lab, name: str, qtype: str, query_id: int = 4242) -> Message:
    return decode_message(udp_ask(lab["dns"].port, build_query(name, qtype, query_id)))


def test_the_service_listens_on_udp_and_tcp_at_one_port(lab: Lab) -> None:
    assert lab["dns"].transports == ("tcp", "udp")


def test_a_and_aaaa_of_the_zone_apex_with_correct_flags(lab: Lab) -> None:
    message = ask(lab, "lab.test", "A", 0x1234)
    assert message.header.id == 0x1234
    assert message.header.flag_names() == ["qr", "aa", "rd"]
    assert message.header.rcode == 0
    assert message.questions == (dns.Question("lab.test.", 1),)
    assert [(r.name, r.type, r.value) for r in message.answers] == [("lab.test.", 1, "127.0.0.1")]
    aaaa = ask(lab, "LAB.test.", "AAAA")
    assert [(r.name, r.value) for r in aaaa.answers] == [("LAB.test.", "::1")]  # the question's case kept


def test_cname_is_followed_inside_the_zone(lab: Lab) -> None:
    message = ask(lab, "www.lab.test", "A")
    assert [(r.name, dns.type_name(r.type), r.value) for r in message.answers] == [
        ("www.lab.test.", "CNAME", "lab.test."),
        ("lab.test.", "A", "127.0.0.1"),
    ]
    only = ask(lab, "www.lab.test", "CNAME")
    assert [r.value for r in only.answers] == ["lab.test."]


def test_mx_txt_nodata_nxdomain_refused(lab: Lab) -> None:
    assert [r.value for r in ask(lab, "mail.lab.test", "MX").answers] == ["10 mx.lab.test."]
    assert [r.value for r in ask(lab, "hello.lab.test", "TXT").answers] == ['"hello from the netbench lab"']
    nodata = ask(lab, "hello.lab.test", "A")
    assert (nodata.header.rcode, nodata.answers) == (0, ())
    assert [dns.type_name(r.type) for r in nodata.authority] == ["SOA"]
    missing = ask(lab, "nope.lab.test", "A")
    assert dns.RCODES[missing.header.rcode] == "NXDOMAIN" and missing.header.aa
    assert [dns.type_name(r.type) for r in missing.authority] == ["SOA"]
    outside = ask(lab, "example.com", "A")
    assert dns.RCODES[outside.header.rcode] == "REFUSED" and not outside.header.aa


def test_big_answer_is_truncated_over_udp_and_whole_over_tcp(lab: Lab) -> None:
    port = lab["dns"].port
    query = build_query("big.lab.test", "TXT", 77)
    over_udp = udp_ask(port, query)
    assert len(over_udp) <= 512
    truncated = decode_message(over_udp)
    assert truncated.header.tc and truncated.answers == ()
    (over_tcp,) = tcp_ask(port, query)
    whole = decode_message(over_tcp)
    assert not whole.header.tc and len(over_tcp) > 512
    assert whole.answers[0].value.count('"line ') == 20


def test_tcp_carries_several_queries_on_one_connection(lab: Lab) -> None:
    replies = tcp_ask(lab["dns"].port, build_query("lab.test", "A", 1), build_query("nope.lab.test", "A", 2))
    decoded = [decode_message(r) for r in replies]
    assert [(m.header.id, m.header.rcode) for m in decoded] == [(1, 0), (2, 3)]


def test_malformed_queries(lab: Lab) -> None:
    port = lab["dns"].port
    assert (
        decode_message(udp_ask(port, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab")).header.rcode
        == 1
    )
    two_questions = bytearray(build_query("lab.test", "A", 9))
    two_questions[5] = 2
    assert answer(bytes(two_questions), udp=True) is not None
    assert decode_message(answer(bytes(two_questions), udp=True) or b"").header.rcode == 1
    notify = bytearray(build_query("lab.test", "SOA", 9))
    notify[2] |= 4 << 3
    assert decode_message(answer(bytes(notify), udp=True) or b"").header.rcode == 4
    assert answer(b"\x00\x01", udp=True) is None  # not even a header
    response = bytearray(build_query("lab.test", "A", 9))
    response[2] |= 0x80
    assert answer(bytes(response), udp=True) is None  # never answer an answer


def test_garbage_and_resets_leave_the_server_serving(lab: Lab) -> None:
    port = lab["dns"].port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for size in (0, 1, 11, 500):
            sock.sendto(b"\xff" * size, ("127.0.0.1", port))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(struct.pack("!H", 3) + b"abc")
        assert read_until_eof(sock) == b""  # not DNS: the server hangs up
    reset = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    reset.sendall(struct.pack("!H", 100) + b"partial")
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    reset.close()
    assert ask(lab, "lab.test", "A").answers


@pytest.fixture
def dig() -> str:
    return optional_binary("dig", "bind9-dnsutils")


def run_dig(path: str, port: int, *args: str) -> str:
    done = subprocess.run(
        [path, "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    return done.stdout


def test_dig_reads_the_zone(lab: Lab, dig: str) -> None:
    port = lab["dns"].port
    assert run_dig(dig, port, "+short", "lab.test", "A") == "127.0.0.1\n"
    assert run_dig(dig, port, "+short", "lab.test", "AAAA") == "::1\n"
    assert run_dig(dig, port, "+short", "www.lab.test", "A") == "lab.test.\n127.0.0.1\n"
    assert run_dig(dig, port, "+short", "mail.lab.test", "MX") == "10 mx.lab.test.\n"
    assert run_dig(dig, port, "+short", "hello.lab.test", "TXT") == '"hello from the netbench lab"\n'
    assert run_dig(dig, port, "+short", "+tcp", "lab.test", "A") == "127.0.0.1\n"
    full = run_dig(dig, port, "nope.lab.test", "A")
    assert "status: NXDOMAIN" in full and "flags: qr aa rd;" in full


def test_dig_retries_a_truncated_answer_over_tcp(lab: Lab, dig: str) -> None:
    port = lab["dns"].port
    ignored = run_dig(dig, port, "+ignore", "big.lab.test", "TXT")
    assert "flags: qr aa tc rd;" in ignored and "ANSWER: 0" in ignored
    retried = run_dig(dig, port, "big.lab.test", "TXT")
    assert "Truncated, retrying in TCP mode" in retried and "ANSWER: 1" in retried


def test_the_log_names_each_query_escaped() -> None:
    lines: list[str] = []
    with running("dns", log=lines.append) as logged:
        port = logged["dns"].port
        udp_ask(port, build_query("lab.test", "AAAA", 1))
        tcp_ask(port, build_query("www.lab.test", "MX", 2))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(
                bytes.fromhex("000101000001000000000000") + b"\x03\x1b[2\x00\x00\x01\x00\x01",
                ("127.0.0.1", port),
            )
            sock.settimeout(TIMEOUT)
            sock.recv(512)
    text = "\n".join(lines)
    assert "dns AAAA lab.test. (udp)" in text and "dns MX www.lab.test. (tcp)" in text
    assert "\x1b" not in text and "\\x1b[2." in text
