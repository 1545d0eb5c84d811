"""The real client address behind a reverse proxy, believed only from the proxy itself.

With TRUSTED_PROXY_COUNT = N > 0, a request whose peer address is one of TRUSTED_PROXIES has
its X-Forwarded-For/-Proto/-Host applied by werkzeug's ProxyFix (the last N hops), so the
login limit and the audit log see the user's address, and url_scheme is https behind TLS.
From any other peer those headers are ignored: a client talking to gunicorn directly cannot
pretend to be someone else. gunicorn's forwarded_allow_ips is given the same addresses
(`survey-api serve`).
"""

from werkzeug.middleware.proxy_fix import ProxyFix


def trust(app):
    """Wrap app.wsgi_app when a proxy count is configured."""
    count = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if count <= 0:
        return
    proxies = trusted_addresses(app.config)
    fixed = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    plain = app.wsgi_app

    def wsgi_app(environ, start_response):
        if environ.get("REMOTE_ADDR") in proxies:
            return fixed(environ, start_response)
        return plain(environ, start_response)

    app.wsgi_app = wsgi_app


def trusted_addresses(config):
    """TRUSTED_PROXIES as a set: a list, or a comma-separated string from the environment."""
    value = config.get("TRUSTED_PROXIES") or ()
    if isinstance(value, str):
        value = value.split(",")
    return {address.strip() for address in value if address.strip()}
