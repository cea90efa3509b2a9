"""TLS options, the SSL context built from them, and a peer certificate summary."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TLSOptions:
    """How to do TLS: verification on by default (``insecure`` turns it off)."""

    insecure: bool = False
    sni: str | None = None
    cafile: str | None = None
    alpn: tuple[str, ...] = ()


def client_context(options: TLSOptions) -> ssl.SSLContext:
    """An SSL client context for *options* (system CAs plus ``cafile``)."""
    context = ssl.create_default_context(cafile=options.cafile)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.alpn:
        context.set_alpn_protocols(list(options.alpn))
    return context


@dataclass(frozen=True)
class CertificateSummary:
    """What a user wants to know about the peer's certificate and the connection."""

    version: str
    cipher: str
    verified: bool
    subject: str = ""
    issuer: str = ""
    not_after: str = ""
    alt_names: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Human-readable lines for the summary."""
        out = [f"TLS {self.version}, cipher {self.cipher}"]
        if self.verified:
            out.append(f"certificate: {self.subject} (issuer {self.issuer}), expires {self.not_after}")
            if self.alt_names:
                out.append("names: " + ", ".join(self.alt_names))
        else:
            out.append("certificate NOT verified (--insecure)")
        return out


def summarize(ssl_object: ssl.SSLObject | ssl.SSLSocket, verified: bool) -> CertificateSummary:
    """Summarize the negotiated TLS session of *ssl_object*."""
    cipher = ssl_object.cipher()
    summary = CertificateSummary(
        version=ssl_object.version() or "?",
        cipher=cipher[0] if cipher else "?",
        verified=verified,
    )
    cert = ssl_object.getpeercert() if verified else None
    if not cert:
        return summary

    def name(field: Any) -> str:
        pairs = [(str(k), str(v)) for rdn in field or () for (k, v) in rdn]
        common = [v for k, v in pairs if k == "commonName"]
        return common[0] if common else ", ".join(f"{k}={v}" for k, v in pairs)

    alt_field: Any = cert.get("subjectAltName", ())
    alt = tuple(str(entry[1]) for entry in alt_field)
    return CertificateSummary(
        version=summary.version,
        cipher=summary.cipher,
        verified=True,
        subject=name(cert.get("subject")),
        issuer=name(cert.get("issuer")),
        not_after=str(cert.get("notAfter", "")),
        alt_names=alt,
    )
