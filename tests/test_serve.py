"""`listenpost serve`: signed, forged, replayed and stale Slack button clicks; actions reach the database."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import pytest
import requests

from alerts.channels.slack.interactions import signature_for
from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.app.serve import make_server
from monitor.core.records import Mention, utcnow
from monitor.core.rows import LabeledExample
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import Response

pytestmark = pytest.mark.both_backends

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
COMPLAINT = "Acme lost my parcel and nobody answers. Terrible service, worst company ever."


@pytest.fixture
def slack(fake, monkeypatch) -> FakeSlack:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LISTENPOST_SLACK_SIGNING_SECRET", SECRET)
    return FakeSlack(fake).install()


@pytest.fixture
def settings(make_settings, slack, database):
    return make_settings(f'database = "{database}"\n' + settings_toml(slack.base_url))


@pytest.fixture
def endpoint(settings, store, slack, lexicon):
    """A served endpoint with one delivered alert (#1) on the fake Slack."""
    ingest(store, settings, [Mention(source="reddit", external_id="t3_1", text=COMPLAINT, brand="Acme",
                                     author="ann", created_at=utcnow())], lexicon)
    dispatch_due(store, settings)
    server = make_server(settings, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/slack/actions"
    server.shutdown()
    server.server_close()


def action_payload(action: str, alert_id: int = 1, user: str = "maria") -> dict:
    return {"type": "block_actions", "user": {"id": "U0MARIA", "username": user},
            "channel": {"id": "C0ALERTS"}, "container": {"message_ts": "1.0"},
            "actions": [{"action_id": f"listenpost_{action}", "value": str(alert_id)}]}


def click(action: str, alert_id: int = 1, user: str = "maria") -> bytes:
    return urlencode({"payload": json.dumps(action_payload(action, alert_id, user))}).encode()


def post(url: str, body: bytes, *, secret: str = SECRET, stamp: int | None = None,
         signature: str | None = None) -> requests.Response:
    stamp = int(time.time()) if stamp is None else stamp
    headers = {"X-Slack-Request-Timestamp": str(stamp),
               "X-Slack-Signature": signature or signature_for(secret, str(stamp), body),
               "Content-Type": "application/x-www-form-urlencoded"}
    return requests.post(url, data=body, headers=headers, timeout=10)


def test_signed_claim_is_applied_and_the_message_updated(endpoint, store, slack) -> None:
    response = post(endpoint, click("claim"))
    assert response.status_code == 200
    row = store.alert(1)
    assert row.claimed_by == "maria" and row.claimed_at
    message = slack.posts(1)[0]
    assert message["updates"] == 1 and "Claimed by maria" in json.dumps(message["blocks"])


def test_replied_closes_and_removes_the_buttons(endpoint, store, slack) -> None:
    assert post(endpoint, click("replied")).status_code == 200
    row = store.alert(1)
    assert (row.replied_by, row.resolution, row.claimed_by) == ("maria", "replied", "maria")
    blocks = slack.posts(1)[0]["blocks"]
    assert not any(b["type"] == "actions" for b in blocks)
    assert "Replied by maria" in json.dumps(blocks)


def test_false_positive_becomes_a_labeled_example(endpoint, store) -> None:
    assert post(endpoint, click("false_positive")).status_code == 200
    assert store.alert(1).resolution == "false_positive"
    examples = store.labeled_examples()
    assert examples == [LabeledExample(text=COMPLAINT, label="neutral", origin="false_positive")]


def test_snooze_holds_escalation_for_an_hour(endpoint, store) -> None:
    assert post(endpoint, click("snooze")).status_code == 200
    snoozed = store.alert(1).snoozed_until
    assert snoozed > store.alert(1).sent_at
    assert not store.unclaimed_alerts(sent_before=utcnow(), now=utcnow())


@pytest.mark.parametrize("forge", [
    {"secret": "not-the-secret"},
    {"signature": "v0=" + "0" * 64},
    {"signature": "garbage"},
])
def test_forged_requests_are_refused(endpoint, store, forge) -> None:
    response = post(endpoint, click("claim"), **forge)
    assert response.status_code == 401
    assert store.alert(1).claimed_at is None


def test_tampered_body_is_refused(endpoint, store) -> None:
    stamp = int(time.time())
    good = signature_for(SECRET, str(stamp), click("claim", user="maria"))
    response = post(endpoint, click("claim", user="mallory"), stamp=stamp, signature=good)
    assert response.status_code == 401
    assert store.alert(1).claimed_at is None


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_stale_requests_are_refused(endpoint, store, age) -> None:
    response = post(endpoint, click("claim"), stamp=int(time.time()) - age)
    assert response.status_code == 401
    assert store.alert(1).claimed_at is None


def test_replayed_request_is_refused(endpoint, store) -> None:
    body, stamp = click("claim"), int(time.time())
    assert post(endpoint, body, stamp=stamp).status_code == 200
    store.set_alert_fields(1, claimed_at=None, claimed_by=None)
    assert post(endpoint, body, stamp=stamp).status_code == 401
    assert store.alert(1).claimed_at is None


def test_missing_headers_and_bad_payloads(endpoint, store) -> None:
    assert requests.post(endpoint, data=click("claim"), timeout=10).status_code == 401
    assert post(endpoint, b"payload=%7Bnot+json").status_code == 400
    assert post(endpoint, urlencode({"payload": json.dumps({"type": "view_submission"})}).encode()).status_code == 400
    assert post(endpoint, b"x" * 300_000).status_code == 413
    # A click on an alert that does not exist is answered, and changes nothing.
    response = post(endpoint, click("claim", alert_id=999))
    assert response.status_code == 200 and "no alert #999" in response.text


def test_second_claim_keeps_the_first_claimer(endpoint, store) -> None:
    assert post(endpoint, click("claim", user="maria")).status_code == 200
    assert post(endpoint, click("claim", user="li")).status_code == 200
    assert store.alert(1).claimed_by == "maria"


def test_serve_needs_the_signing_secret(settings, monkeypatch) -> None:
    from monitor.core.errors import MissingCredential

    monkeypatch.delenv("LISTENPOST_SLACK_SIGNING_SECRET")
    with pytest.raises(MissingCredential, match="LISTENPOST_SLACK_SIGNING_SECRET"):
        make_server(settings, host="127.0.0.1", port=0)


def test_socket_mode_click_is_acknowledged_and_applied(settings, store, slack, lexicon, monkeypatch) -> None:
    """Slack's Socket Mode, played by a local websocket server that sends one button click."""
    from websockets.sync.server import serve

    from monitor.app.serve import run_socket_mode

    monkeypatch.setenv("LISTENPOST_SLACK_APP_TOKEN", "xapp-test")
    ingest(store, settings, [Mention(source="reddit", external_id="t3_1", text=COMPLAINT, brand="Acme",
                                     author="ann", created_at=utcnow())], lexicon)
    dispatch_due(store, settings)
    acks: list[dict] = []
    payload = action_payload("claim", user="sam")

    def session(websocket) -> None:
        websocket.send(json.dumps({"type": "hello", "num_connections": 1}))
        websocket.send(json.dumps({"envelope_id": "env-1", "type": "interactive", "payload": payload,
                                   "accepts_response_payload": False}))
        acks.append(json.loads(websocket.recv(timeout=10)))
        websocket.recv(timeout=10)  # held open until the client goes

    with serve(session, "127.0.0.1", 0) as ws_server:
        threading.Thread(target=ws_server.serve_forever, daemon=True).start()
        port = ws_server.socket.getsockname()[1]
        slack.server.route("POST", "/api/apps.connections.open",
                           lambda _: Response(200, {"ok": True, "url": f"ws://127.0.0.1:{port}/link"}))
        stop = threading.Event()
        worker = threading.Thread(target=run_socket_mode, args=(settings, stop), daemon=True)
        worker.start()
        deadline = time.monotonic() + 15
        while store.alert(1).claimed_by is None and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        worker.join(10)
        ws_server.shutdown()
    assert acks == [{"envelope_id": "env-1"}]
    assert store.alert(1).claimed_by == "sam"
    assert slack.server.calls("/api/apps.connections.open")[0].headers["authorization"] == "Bearer xapp-test"



@pytest.mark.parametrize(("payload", "why"), [
    (action_payload("claim", alert_id=10**30), "alert id out of range"),
    (action_payload("claim", alert_id=-1), "alert id out of range"),
    ({"type": "block_actions", "actions": [{"action_id": "listenpost_claim", "value": "9" * 5000}]},
     "alert id out of range"),
])
def test_impossible_alert_ids_are_answered_400(endpoint, store, payload, why) -> None:
    response = post(endpoint, urlencode({"payload": json.dumps(payload)}).encode())
    assert (response.status_code, response.text) == (400, why)
    assert store.alert(1).claimed_at is None


def test_deeply_nested_payload_is_answered_400(endpoint) -> None:
    body = urlencode({"payload": "[" * 30_000 + "]" * 30_000}).encode()  # under the size limit
    response = post(endpoint, body)
    assert response.status_code == 400 and "no JSON payload" in response.text


def test_a_burst_of_200_clicks_is_answered_in_full(endpoint, store) -> None:
    """All connect at once: each is verified, recorded against replay and applied."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    target = urlsplit(endpoint)
    gate = threading.Barrier(200)

    def one(i: int) -> int | None:
        body = click("claim", user=f"user{i}")
        stamp = str(int(time.time()))
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature_for(SECRET, stamp, body),
                   "Content-Type": "application/x-www-form-urlencoded"}
        gate.wait()
        try:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            conn.request("POST", target.path, body=body, headers=headers)
            return conn.getresponse().status
        except OSError:
            return None

    with ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(one, range(200)))
    assert statuses == [200] * 200
    assert store.alert(1).claimed_by in {f"user{i}" for i in range(200)}


def test_half_sent_requests_are_closed_and_others_still_answered(settings, store, slack, lexicon,
                                                                 monkeypatch) -> None:
    import socket

    import monitor.app.serve

    monkeypatch.setattr(monitor.app.serve, "IDLE_TIMEOUT", 1)
    server = make_server(settings, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        held = []
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", server.server_port), timeout=15)
            s.sendall(b"POST /slack/actions HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\npayload=")
            held.append(s)
        url = f"http://127.0.0.1:{server.server_port}/slack/actions"
        assert post(url, click("claim", alert_id=999)).status_code == 200
        assert all(s.recv(1) == b"" for s in held)  # closed by the server, not left holding a thread
        for s in held:
            s.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_body_that_is_not_utf8_is_refused_without_a_traceback(endpoint, store, caplog) -> None:
    # An unsigned client could make every such request a 500 and a traceback in the server's log.
    response = post(endpoint, b"payload=\xff\xfe", signature="v0=" + "0" * 64)
    assert response.status_code == 401
    assert "not UTF-8" in response.text
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert store.alert(1).claimed_at is None
