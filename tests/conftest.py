"""Shared fixtures: a fresh copy of the migrated demo database per test, on SQLite and PostgreSQL.

The template database is migrated with Alembic and loaded with the Ambito Cremasco demo once per run;
each test gets its own copy (file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so
tests can commit freely, run live servers in threads, and never see each other's data.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, event, text

PG_ADMIN_URL = os.environ.get("PDZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("PDZ_REQUIRE_POSTGRES") == "1"
FAST_ARGON2 = {"PDZ_ARGON2_TIME_COST": 1, "PDZ_ARGON2_MEMORY_COST": 1024}


# Waits that are only reached when something is wrong get a floor of FAILURE_WAIT seconds: the suite runs on
# every core (pytest-xdist) and must pass while another process loads them too, so an acknowledgement that
# takes 50 ms on a quiet machine can take seconds. A passing test never waits for these deadlines.
FAILURE_WAIT = 30.0


def _generous_socketio_waits() -> None:
    import socketio

    if getattr(socketio.Client, "_pdz_generous", False):
        return
    call, connect = socketio.Client.call, socketio.Client.connect

    def generous_call(
        self: Any, event: str, data: Any = None, namespace: Any = None, timeout: Any = 60
    ) -> Any:
        return call(self, event, data, namespace=namespace, timeout=max(timeout or 0, FAILURE_WAIT))

    def generous_connect(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["wait_timeout"] = max(kwargs.get("wait_timeout") or 0, FAILURE_WAIT)
        return connect(self, *args, **kwargs)

    socketio.Client.call = generous_call  # type: ignore[method-assign]
    socketio.Client.connect = generous_connect  # type: ignore[method-assign]
    socketio.Client._pdz_generous = True  # type: ignore[attr-defined]


def _is_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_configure(config: pytest.Config) -> None:
    _generous_socketio_waits()
    if not _is_xdist_worker():
        # One tag per run, inherited by the pytest-xdist workers (started after this hook): it names the
        # run's PostgreSQL template, which the workers share and this process drops at the end.
        os.environ["PDZ_TEST_RUN"] = uuid.uuid4().hex[:10]


@pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run's template and any test database a killed worker left behind are dropped once all is done."""
    run = os.environ.get("PDZ_TEST_RUN")
    if _is_xdist_worker() or not POSTGRES or not run:
        return
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname IN (:t) OR datname LIKE :p"),
                {"t": f"pdz_tpl_{run}", "p": f"pdz\\_t\\_{run}\\_%"},
            ).scalars()
            for name in list(names):
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - a leftover database must not fail the run
        print(f"could not drop this run's databases: {error}")


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


POSTGRES = _postgres_available()
if REQUIRE_POSTGRES and not POSTGRES:
    raise RuntimeError(f"PDZ_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable at {PG_ADMIN_URL}")
BACKENDS = ["sqlite", "postgres"] if POSTGRES else ["sqlite"]


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


class _SharedBytecode(BytecodeCache):
    """Compiled templates shared by every app of this process. Each test makes new apps, and each app's Jinja
    environment would compile every template it renders again (60-300 ms a test); Jinja's bytecode cache
    reuses the compiled code, checked against the template's source."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (data := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _SharedBytecode()


def make_app(database_url: str, instance: Path, **overrides: Any) -> Any:
    os.environ["PDZ_INSTANCE_DIR"] = str(instance)
    from pdz import create_app

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PDZ_LOGIN_RATE_LIMIT": "1000 per minute",
        "RATELIMIT_ENABLED": True,
        "PDZ_BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        **FAST_ARGON2,
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = _BYTECODE
    return app


def _build_template(database_url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from pdz.db import unit_of_work
    from pdz.demo import load_demo
    from pdz.extensions import db

    app = make_app(database_url, instance)
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_demo()
        db.engine.dispose()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdz")


@pytest.fixture(scope="session")
def templates(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated, demo-loaded template database per backend, built lazily, once per run: the first
    pytest-xdist worker that needs it builds it under a file lock, the others wait and copy it."""
    shared = tmp_path_factory.getbasetemp().parent if _is_xdist_worker() else run_dir
    failed: dict[str, BaseException] = {}

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, backend: str) -> str:
            if backend in failed:  # report the build's own error in every test, not a follow-up one
                raise RuntimeError(f"the {backend} template database could not be built") from failed[backend]
            try:
                with _locked(shared / "templates.lock"):
                    self[backend] = _template(backend, shared, run_dir)
            except BaseException as error:
                failed[backend] = error
                raise
            return str(self[backend])

    return Lazy()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _template(backend: str, shared: Path, run_dir: Path) -> str:
    """The template's file path (SQLite) or database name (PostgreSQL); built if this run has none yet.
    Called under the lock; a marker file says the build finished."""
    done = shared / f"template-{backend}.done"
    if done.exists():
        return done.read_text()
    if backend == "sqlite":
        path = shared / "template.sqlite3"
        path.unlink(missing_ok=True)
        _build_template(f"sqlite:///{path}", run_dir)
        found = str(path)
    else:
        found = f"pdz_tpl_{os.environ.get('PDZ_TEST_RUN') or uuid.uuid4().hex[:10]}"
        _pg_admin(f"DROP DATABASE IF EXISTS {found} WITH (FORCE)")
        _pg_admin(f"CREATE DATABASE {found}")
        _build_template(_pg_url(found), run_dir)
    done.write_text(found)
    return found


class _Dropper:
    """Drops used PostgreSQL databases in a background thread, so tests do not wait for it."""

    def __init__(self) -> None:
        import queue

        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        while (name := self.queue.get()) is not None:
            try:
                with engine.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            except Exception:  # noqa: S112 - best effort; the name is unique to this run
                continue
        engine.dispose()

    def drop(self, name: str) -> None:
        self.queue.put(name)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=120)


_DROPPER: _Dropper | None = None


class _Spares:
    """Copies of the PostgreSQL template made ahead of need in a background thread: CREATE DATABASE waits
    mostly on the disk (PostgreSQL syncs the new files), so it overlaps with the running test instead of
    delaying the next one. A failed copy is raised in the test that takes it."""

    def __init__(self, template: str, ahead: int = 2) -> None:
        import queue

        self.template = template
        self.ready: queue.Queue[str | BaseException] = queue.Queue()
        self.wanted = threading.Semaphore(ahead)
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        while True:
            self.wanted.acquire()
            if self.closing:
                break
            name = _pg_test_name()
            try:
                with engine.connect() as connection:
                    connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {self.template}"))
                self.ready.put(name)
            except Exception as error:  # noqa: BLE001 - handed to the test that takes this copy
                self.ready.put(error)
        engine.dispose()

    def take(self) -> str:
        item = self.ready.get(timeout=300)
        self.wanted.release()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        import queue

        self.closing = True
        self.wanted.release()
        self.thread.join(timeout=120)
        while True:
            try:
                item = self.ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, str) and _DROPPER is not None:
                _DROPPER.drop(item)


_SPARES: _Spares | None = None


def _pg_test_name() -> str:
    """Named after the run, so that whatever a killed worker leaves behind is dropped at the end of the run."""
    return f"pdz_t_{os.environ.get('PDZ_TEST_RUN', 'x')}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session", autouse=True)
def _pg_dropper() -> Iterator[None]:
    global _DROPPER, _SPARES
    if POSTGRES:
        _DROPPER = _Dropper()
    yield
    if _SPARES is not None:
        _SPARES.close()
        _SPARES = None
    if _DROPPER is not None:
        _DROPPER.close()


_PG_ADMIN_ENGINE: Any = None


def _pg_admin_fast(sql: str) -> None:
    global _PG_ADMIN_ENGINE
    if _PG_ADMIN_ENGINE is None:
        _PG_ADMIN_ENGINE = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with _PG_ADMIN_ENGINE.connect() as connection:
        connection.execute(text(sql))


@contextmanager
def fresh_database(backend: str, templates: dict[str, str], run_dir: Path) -> Iterator[str]:
    global _SPARES
    if backend == "sqlite":
        source = Path(templates["sqlite"])
        target = run_dir / f"db_{uuid.uuid4().hex[:10]}.sqlite3"
        shutil.copy(source, target)
        yield f"sqlite:///{target}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    else:
        template = templates["postgres"]
        if _DROPPER is not None:  # inside the session (the module pytest registered): copies made ahead
            if _SPARES is None or _SPARES.template != template:
                _SPARES = _Spares(template)
            name = _SPARES.take()
        else:
            name = _pg_test_name()
            _pg_admin_fast(f"CREATE DATABASE {name} TEMPLATE {template}")
        try:
            yield _pg_url(name)
        finally:
            if _DROPPER is not None:
                _DROPPER.drop(name)
            else:
                _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, templates: dict[str, str], run_dir: Path) -> Iterator[str]:
    with fresh_database(backend, templates, run_dir) as url:
        yield url


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, run_dir: Path, app_overrides: dict[str, Any]) -> Iterator[Any]:
    """The app under test. Test code runs in the context of a twin app on the same database, so that
    each test-client request gets its own app context (and `g`), exactly as in production."""
    from pdz.extensions import db

    twin = make_app(database_url, run_dir, **app_overrides)
    application = make_app(database_url, run_dir, **app_overrides)  # created last: owns the Socket.IO server
    with twin.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def db(app: Any) -> Any:
    from pdz.extensions import db as database

    return database


# The demo's staff accounts ask for a TOTP code after the password. The helpers type the code once per test
# and person, asking PdZ to remember the device; later sign-ins in the same test (same database) show that
# trusted-device cookie instead, since a code is never accepted twice.
_TRUSTED: dict[tuple[str, str], str] = {}


def demo_code() -> str:
    import pyotp

    from pdz.accounts.demo import DEMO_TOTP_SECRET

    return str(pyotp.TOTP(DEMO_TOTP_SECRET).now())


def login(client: Any, email: str, password: str = "demo") -> Any:
    from pdz.accounts.second_factor import DEVICE_COOKIE

    key = (client.application.config["SQLALCHEMY_DATABASE_URI"], email)
    if key in _TRUSTED:
        client.set_cookie(DEVICE_COOKIE, _TRUSTED[key], path="/login")
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code == 302 and response.location.startswith("/login/codice"):
        response = client.post("/login/codice", data={"code": demo_code(), "remember": "y"})
        cookie = client.get_cookie(DEVICE_COOKIE, path="/login")
        if cookie is not None:
            _TRUSTED[key] = cookie.value
    assert response.status_code == 302, f"login failed for {email}: {response.status_code}"
    return client


@pytest.fixture
def client_as(app: Any) -> Callable[[str], Any]:
    def make(email: str) -> Any:
        return login(app.test_client(), email)

    return make


@pytest.fixture
def user(db: Any) -> Callable[[str], Any]:
    from sqlalchemy import select

    from pdz.accounts.models import User

    def get(email: str) -> Any:
        found = db.session.scalar(select(User).where(User.email == email))
        assert found is not None, email
        return found

    return get


@pytest.fixture
def body(db: Any) -> Callable[[str], Any]:
    from sqlalchemy import select

    from pdz.tavoli.models import Body

    def get(name: str) -> Any:
        found = db.session.scalar(select(Body).where(Body.name == name))
        assert found is not None, name
        return found

    return get


@pytest.fixture
def tavolo(body: Callable[[str], Any]) -> Any:
    return body("Tavolo Povertà")


@pytest.fixture
def count_queries(app: Any, db: Any) -> Callable[[], Any]:
    """`with count_queries() as n: ...; n()` gives the number of SQL statements the app ran inside."""
    with app.app_context():
        engine = db.engine

    @contextmanager
    def counting() -> Iterator[Callable[[], int]]:
        statements: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|PRAGMA)", statement, re.I):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            yield lambda: len(statements)
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def outbox(db: Any, to: str) -> list[Any]:
    from sqlalchemy import select

    from pdz.mail import OutboxMessage

    db.session.expire_all()
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id))
    )


def link_in(message: Any) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return "/" + match.group(0).split("/", 3)[3]


# --- live server (real HTTP + Socket.IO in a thread) ----------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.app = app
        # Port 0: the kernel picks a free port as it binds, so parallel workers (pytest-xdist) never race
        # for the same port between choosing it and binding it.
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = int(self.server.port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        # The socket is bound before the thread starts, so the first request waits in the
        # backlog rather than failing; on a loaded machine the first answer (which opens the
        # database) can take seconds, so wait on it with a generous deadline.
        deadline = time.monotonic() + 60
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=15).ok:
                    return self
            except requests.RequestException as error:
                last = error
            time.sleep(0.05)
        raise RuntimeError(f"live server did not start: {last!r}")

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(database_url: str, run_dir: Path, app_overrides: dict[str, Any]) -> Iterator[LiveServer]:
    """The app served for real (HTTP + Socket.IO, threading mode), with CSRF on, on a fresh database."""
    from pdz.extensions import db

    application = make_app(database_url, run_dir, WTF_CSRF_ENABLED=True, **app_overrides)
    server = LiveServer(application).start()
    yield server
    server.stop()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def http_session(server: LiveServer, email: str, password: str = "demo") -> requests.Session:
    """A requests session signed in through the real login form (CSRF token included)."""
    from pdz.accounts.second_factor import DEVICE_COOKIE

    def csrf(url: str) -> str:
        page = session.get(url)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
            r'name="csrf_token" value="([^"]+)"', page.text
        )
        assert token, f"no CSRF token on {url}"
        return token.group(1)

    session = requests.Session()
    app = getattr(server, "app", None)  # bench.servers' processes have no app object here: keyed by address
    key = (app.config["SQLALCHEMY_DATABASE_URI"] if app is not None else server.url, email)
    if key in _TRUSTED:
        session.cookies.set(DEVICE_COOKIE, _TRUSTED[key], domain="127.0.0.1", path="/login")
    response = session.post(
        server.url + "/login",
        data={"csrf_token": csrf(server.url + "/login"), "email": email, "password": password},
        allow_redirects=False,
    )
    if response.status_code == 302 and response.headers["Location"].endswith("/login/codice"):
        code_url = server.url + "/login/codice"
        response = session.post(
            code_url,
            data={"csrf_token": csrf(code_url), "code": demo_code(), "remember": "y"},
            allow_redirects=False,
        )
        if session.cookies.get(DEVICE_COOKIE):
            _TRUSTED[key] = session.cookies.get(DEVICE_COOKIE)
    assert response.status_code == 302, response.text[:500]
    return session


def fast_close(client: Any) -> None:
    """websocket-client waits up to 3 s for the server's close frame; tests need not."""
    ws = getattr(client.eio, "ws", None)
    if ws is not None and not getattr(ws, "_pdz_fast", False):
        original = ws.close
        ws.close = lambda *args, **kwargs: original(*args, **{**kwargs, "timeout": 0.1})
        ws._pdz_fast = True


@pytest.fixture
def socket_client(live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """`socket_client(email)` gives a connected python-socketio client sharing that user's login cookie."""
    import socketio

    clients: list[Any] = []

    def make(email: str, transports: list[str] | None = None) -> Any:
        session = http_session(live_server, email)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        client = socketio.Client(reconnection=False)
        client.received = []  # type: ignore[attr-defined]

        @client.on("*")
        def catch_all(name: str, data: Any) -> None:
            client.received.append((name, data))  # type: ignore[attr-defined]

        client.connect(
            live_server.url,
            headers={"Cookie": cookie},
            transports=transports or ["websocket"],
            wait_timeout=FAILURE_WAIT,
        )
        client.http = session  # type: ignore[attr-defined]
        clients.append(client)
        return client

    yield make
    for client in clients:
        fast_close(client)
    closers = [threading.Thread(target=client.disconnect) for client in clients if client.connected]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join(timeout=10)


# --- browser (Playwright driving Debian's chromium) ------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page_as(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """`page_as(email)` opens a new browser context signed in through the real login page."""
    contexts: list[Any] = []

    def make(email: str | None, password: str = "demo") -> Any:
        context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(FAILURE_WAIT * 1000)
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url + "/login")
        if email:
            from pdz.accounts.second_factor import DEVICE_COOKIE

            key = (live_server.app.config["SQLALCHEMY_DATABASE_URI"], email)
            if key in _TRUSTED:
                cookie = {
                    "name": DEVICE_COOKIE,
                    "value": _TRUSTED[key],
                    "domain": "127.0.0.1",
                    "path": "/login",
                }
                context.add_cookies([cookie])
            home, code_step = live_server.url + "/", live_server.url + "/login/codice"
            page.get_by_label("E-mail").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Accedi").click()
            page.wait_for_url(lambda url: url in (home, code_step))
            if page.url == code_step:
                page.get_by_label("Codice").fill(demo_code())
                page.get_by_label("Ricorda questo dispositivo").check()
                page.get_by_role("button", name="Verifica").click()
                page.wait_for_url(home)
                for cookie in context.cookies():
                    if cookie["name"] == DEVICE_COOKIE:
                        _TRUSTED[key] = cookie["value"]
        return page

    yield make
    for context in contexts:
        context.close()


def card_awaiting_vote(app: Any, db: Any) -> int:
    """A submission waiting for the Assemblea's vote, made through the services: the Tavolo Povertà's first card
    sent by its public co-coordinator and forwarded by the UdP Integrato. (The demo's Piano di Zona used to be
    the one waiting; it can no longer be sent while cards are missing.) Returns the submission's id."""
    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.approvals import services
    from pdz.approvals.models import DocKind
    from pdz.cards import queries as card_queries
    from pdz.cards.models import Card
    from pdz.tavoli.models import Body

    with app.test_request_context(base_url=app.config["PDZ_BASE_URL"]):
        body = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
        card_id = db.session.scalar(select(Card.id).where(Card.body_id == body.id).order_by(Card.id))
        coord = db.session.scalar(select(User).where(User.email == "coord.pubblico@example.org"))
        udp = db.session.scalar(select(User).where(User.email == "udp@example.org"))
        loaded = card_queries.card_page(card_id)
        _, fingerprint = services.current_content(DocKind.CARD, loaded)
        sub = services.submit(DocKind.CARD, loaded, expected_fingerprint=fingerprint, actor=coord)
        db.session.flush()
        services.forward(sub, version=sub.version, note="Coerente con il mandato.", actor=udp)
        db.session.commit()
        return int(sub.id)
