"""Take the app store screenshots from a running Odoo with the demo data.

    python tools/screenshots.py --url http://127.0.0.1:8069 --db DB \
        --login admin --password admin --out retention_loyalty/static/description \
        home=/odoo/action-retention_loyalty.retention_home_action ...

Each NAME=PATH argument is opened as the user (or as --portal-login with
``portal:NAME=PATH``) in headless Chromium and saved as NAME.png once the
page has been quiet for a moment; ``NAME=PATH@SELECTOR`` clicks the element
SELECTOR (a tab, say) first. Needs Chromium, ``requests`` and
``websocket-client``.
"""

import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

WIDTH, HEIGHT = 1440, 900
SETTLE_SECONDS = 3.0


def session_id(url, db, login, password):
    response = requests.post(
        f"{url}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}},
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"cannot log in as {login}: {response.json()['error']['data']['message']}")
    return response.cookies["session_id"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    def __init__(self):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="rl_shots_")
        chromium = shutil.which("chromium") or shutil.which("google-chrome")
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(50):
            try:
                pages = requests.get(f"http://127.0.0.1:{self.port}/json", timeout=2).json()
                target = next(page for page in pages if page["type"] == "page")
                break
            except (requests.ConnectionError, StopIteration):
                time.sleep(0.2)
        self.socket = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def settle(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self.call(
                "Runtime.evaluate",
                expression="document.readyState === 'complete' && "
                "!document.querySelector('.o_loading_indicator, .o_blockUI')",
                returnByValue=True,
            )
            if ready["result"].get("value"):
                break
            time.sleep(0.3)
        time.sleep(SETTLE_SECONDS)

    def shoot(self, url, cookie, out, click=None):
        self.call("Network.enable")
        self.call("Network.clearBrowserCookies")
        self.call("Network.setCookie", name="session_id", value=cookie, url=url)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=url)
        self.settle()
        if click:
            self.call(
                "Runtime.evaluate",
                expression=f"document.querySelector({json.dumps(click)}).click()",
            )
            self.settle()
        # A development server's bus tells headless tabs they are "out of date";
        # that sticky warning says nothing about the screen being shown.
        self.call(
            "Runtime.evaluate",
            expression="document.querySelectorAll('.o_notification_manager .o_notification')"
            ".forEach((notification) => notification.remove())",
        )
        shot = self.call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--portal-login")
    parser.add_argument("--portal-password")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("pages", nargs="+", help="NAME=PATH or portal:NAME=PATH")
    args = parser.parse_args()
    cookies = {"user": session_id(args.url, args.db, args.login, args.password)}
    if args.portal_login:
        cookies["portal"] = session_id(args.url, args.db, args.portal_login, args.portal_password)
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Browser()
    try:
        for page in args.pages:
            who, spec = page.split(":", 1) if page.startswith("portal:") else ("user", page)
            name, path = spec.split("=", 1)
            path, _at, click = path.partition("@")
            target = args.out / f"{name}.png"
            browser.shoot(f"{args.url}{path}", cookies[who], target, click or None)
            print(f"{target}: {target.stat().st_size} bytes")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
