"""A real OpenID provider (npm oidc-provider, run by oidc_provider.mjs) on a free loopback port."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

from server.devrun import free_port, wait_for_port
from tests.services import SERVICES_DIR, _stop

SCRIPT = SERVICES_DIR / "oidc_provider.mjs"
CLIENT_ID = "kyoso"

# The people who can log in at the test providers; the login form takes the `sub`, any password.
ACCOUNTS = [
    {"sub": "new-person", "email": "new.person@idp.example.jp", "email_verified": True, "name": "新しい 人"},
    {"sub": "returning", "email": "returning@idp.example.jp", "email_verified": True, "name": "Returning Person"},
    {"sub": "has-account", "email": "has.account@example.jp", "email_verified": True, "name": "Has Account"},
    {"sub": "unverified", "email": "victim@example.jp", "email_verified": False, "name": "Not Verified"},
    {"sub": "pending", "email": "pending@example.jp", "email_verified": True, "name": "Pending Address"},
    {"sub": "deactivated", "email": "deactivated@example.jp", "email_verified": True, "name": "Deactivated"},
    {"sub": "tampered", "email": "tampered@idp.example.jp", "email_verified": True, "name": "Tampered"},
    {"sub": "forged", "email": "forged@idp.example.jp", "email_verified": True, "name": "Forged"},
    {"sub": "cancels", "email": "cancels@idp.example.jp", "email_verified": True, "name": "Cancels"},
    {"sub": "no-email", "name": "Keeps Address Private"},
]


class OidcServer:
    """`forge_signatures` makes the provider publish the wrong public key, so its id_tokens don't verify."""

    def __init__(self, log_path: Path, redirect_uris: list[str], *, forge_signatures: bool = False) -> None:
        if not (SERVICES_DIR / "node_modules" / "oidc-provider").exists():
            raise RuntimeError(f"oidc-provider is not installed: run `npm ci --prefix {SERVICES_DIR}`")
        self.node = shutil.which("node")
        if self.node is None:
            raise RuntimeError("Node.js is needed to run the test OpenID provider")
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = CLIENT_ID
        self.client_secret = secrets.token_urlsafe(24)
        self.config = {
            "port": self.port,
            "clients": [
                {"client_id": CLIENT_ID, "client_secret": self.client_secret, "redirect_uris": redirect_uris}
            ],
            "accounts": ACCOUNTS,
            "forge_signatures": forge_signatures,
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [self.node, str(SCRIPT), json.dumps(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=SERVICES_DIR,
            )
        wait_for_port(self.port, self.process, timeout=30)  # it listens once fully configured

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


class OidcProviders:
    """The test providers: "idp" (honest), "forged" (its id_tokens fail signature checks), "wrong-secret" (the
    honest provider, but Kyoso holds a wrong client secret) and "offline" (nothing listens there).

    Their ports are chosen at once, so that `settings` (the OIDC_PROVIDERS entries configuring Kyoso for them)
    is known before anything runs; the node processes start only on `start()`, for the tests that log in."""

    def __init__(self, log_dir: Path, base_url: str) -> None:
        def callback(key: str) -> str:
            return f"{base_url}/auth/oidc/{key}/callback"

        honest = OidcServer(log_dir / "idp.log", [callback("idp"), callback("wrong-secret")])
        forged = OidcServer(log_dir / "forged.log", [callback("forged")], forge_signatures=True)
        self.servers = (honest, forged)
        self.settings = [
            {"key": "idp", "name": "Test IdP", "issuer": honest.issuer,
             "client_id": honest.client_id, "client_secret": honest.client_secret},
            {"key": "forged", "name": "Forged IdP", "issuer": forged.issuer,
             "client_id": forged.client_id, "client_secret": forged.client_secret},
            {"key": "wrong-secret", "name": "Test IdP", "issuer": honest.issuer,
             "client_id": honest.client_id, "client_secret": "not-" + honest.client_secret},
            {"key": "offline", "name": "Offline IdP", "issuer": f"http://127.0.0.1:{free_port()}",
             "client_id": CLIENT_ID, "client_secret": "unused"},
        ]

    def start(self) -> None:
        """Start the providers that are not running yet (once per session in practice)."""
        for server in self.servers:
            if server.process is None:
                server.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

