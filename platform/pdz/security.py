"""HTTP hardening applied to every response: Content-Security-Policy and the other security headers,
and, behind a TLS-terminating proxy, HSTS and `Secure` cookies.

The policy allows no inline script, no inline event handler and no style attribute: behaviour lives in
static/js (delegated listeners reading `data-*` attributes, see static/js/behaviours.js), data a page needs
travels in `<script type="application/json">` blocks, styles in static/css. The one exception, `<style>`
elements, is explained in `content_security_policy`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS_SECONDS = 365 * 24 * 3600

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)


def content_security_policy(host: str, report_uri: str | None = None) -> str:
    """The policy for a response served as `host` (Socket.IO may connect back to it over ws or wss)."""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        # Styles come from static/css, except the <style> element the co-writing editor (CodeMirror) builds
        # for its themes at run time: its content varies with the extensions mounted, so no hash fits, and
        # it would take a nonce passed to the editor (EditorView.cspNonce) to go further. Style attributes
        # in markup stay forbidden (style-src-attr); scripts are never inline. Browsers without the -elem /
        # -attr directives (before 2022) fall back to the first line.
        "style-src 'self' 'unsafe-inline'",
        "style-src-elem 'self' 'unsafe-inline'",
        "style-src-attr 'none'",
        "img-src 'self' data:",  # data: for generated images such as an enrolment QR code; never scripts
        "font-src 'self'",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "frame-src 'none'",
        "worker-src 'self'",
        "manifest-src 'self'",
    ]
    if report_uri:
        directives.append(f"report-uri {report_uri}")
    return "; ".join(directives)


def _secure_cookies(response: Response) -> None:
    """Over HTTPS every cookie we set is `Secure` (session, remember-me, trusted device, any added later)."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        response.headers.add("Set-Cookie", cookie if "secure" in attributes else f"{cookie}; Secure")


def add_headers(response: Response) -> Response:
    host = "".join(ch for ch in request.host if ch.isalnum() or ch in ".-:[]") or "localhost"
    headers = response.headers
    headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(host, current_app.config.get("PDZ_CSP_REPORT_URI")),
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
        _secure_cookies(response)
    return response


def install(app: Flask) -> None:
    """Trust `PDZ_PROXY_FIX` proxies' X-Forwarded-* headers (scheme, host, client address), then add the
    security headers to every response. Call after Socket.IO has wrapped the WSGI app, so its handshake
    sees the forwarded scheme and host too."""
    proxies = int(app.config.get("PDZ_PROXY_FIX") or 0)
    if proxies > 0:
        wrapped: Any = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies, x_prefix=proxies
        )
        app.wsgi_app = wrapped  # type: ignore[method-assign]
    app.after_request(add_headers)
