"""A fake Jira (Cloud or Data Center) served over real HTTP on 127.0.0.1.

The `jira` library runs against it unmodified. Payloads follow the shapes of the real ones in
tests/api_samples/jira-*.jsonl: histories newest first, times with a `+hhmm` offset in
the user's time zone. Switches make it misbehave the way real sites do (`fail`, `delay`,
`reject_auth`, `forbid`, `hide_deployment_type`), and every request is counted.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo

import pandas as pd

from .jql import JQLError, Parser, parse_date
from .world import CATEGORIES, Comment, Issue, JiraWorld

FLAG_FIELD_ID = {"cloud": "customfield_10021", "datacenter": "customfield_10100"}

USERS = {
    "rankin": ("5e9711ba34f7b90c0fbc37d3", "JIRAUSER10100", "Rankin Zheng"),
    "mei": ("5b10ac8d82e05b22cc7d4ef5", "JIRAUSER10101", "Mei Lin"),
}
"""User name -> (Cloud account id, Data Center user key, display name)."""


@dataclass
class Failure:
    path_part: str
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    after: int = 0
    """Matching requests let through before the failures start."""
    echo: bool = False
    """Answer with the request's headers and the bare Authorization value in the message."""


@dataclass
class Delay:
    path_part: str
    seconds: float
    times: int


class FakeJira:
    """`with FakeJira(world, mode="cloud") as jira: ... jira.url ...`"""

    def __init__(
        self,
        world: JiraWorld,
        mode: str = "cloud",
        email: str = "lead@example.com",
        token: str = "fake-token-123",
        zone: str = "Europe/Berlin",
        embedded_cap: int = 100,
        page_cap: int = 100,
        changelog_page_cap: int = 100,
        bulk_page_cap: int = 10000,
    ):
        assert mode in ("cloud", "datacenter")
        self.world = world
        self.mode = mode
        self.email = email
        self.token = token
        self.zone = ZoneInfo(zone)
        self.zone_name = zone
        self.embedded_cap = embedded_cap
        self.page_cap = page_cap
        self.changelog_page_cap = changelog_page_cap
        self.bulk_page_cap = bulk_page_cap
        self.flag_field_id = FLAG_FIELD_ID[mode]
        self.reject_auth = False
        self.forbid = False
        self.hide_deployment_type = False
        self.changelog_endpoint = True
        """False: a Data Center such as 9.12, where /issue/{key}/changelog is 404 "null for uri"."""
        self.failures: list[Failure] = []
        self.delays: list[Delay] = []
        self.requests: list[tuple[str, str]] = []
        self.jqls: list[str] = []
        self.now: pd.Timestamp | None = None
        """The site's clock (serverInfo.serverTime); the real clock when None."""
        self.bodies: list[Any] = []
        self.queries: list[dict[str, list[str]]] = []
        """Each request's query string, parsed (in the order of `requests`)."""
        self._tokens: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._url = ""
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeJira:
        fake = self

        class Handler(_Handler):
            jira = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeJira:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._url, "start() the fake first"
        return self._url

    # --- switches and counters -----------------------------------------------------------
    def fail(
        self,
        path_part: str,
        status: int,
        times: int = 1,
        headers=None,
        body=None,
        after=0,
        echo: bool = False,
    ) -> None:
        """Answer `times` requests whose path contains `path_part` with `status`, once `after`
        such requests have been let through. `echo`: the error message repeats the request's
        headers (a body given as text is sent as it is, not as JSON)."""
        self.failures.append(
            Failure(path_part, status, times, dict(headers or {}), body, after, echo)
        )

    def delay(self, path_part: str, seconds: float, times: int = 1) -> None:
        self.delays.append(Delay(path_part, seconds, times))

    def count(self, path_part: str = "") -> int:
        with self._lock:
            return sum(1 for _, path in self.requests if path_part in path)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bodies.clear()
            self.queries.clear()
            self.jqls.clear()

    def fields_asked(self, path_part: str) -> list[list[str]]:
        """The `fields` each request whose path contains `path_part` asked for (query string
        or JSON body)."""
        with self._lock:
            sent = list(zip(self.requests, self.bodies, self.queries, strict=True))
        out = []
        for (_, path), body, query in sent:
            if path_part not in path:
                continue
            if isinstance(body, dict) and "fields" in body:
                out.append([str(f) for f in body["fields"]])
            else:
                out.append([f for v in query.get("fields", []) for f in v.split(",") if f])
        return out

    @property
    def secrets(self) -> dict[str, str]:
        """The variables a user would export for this site."""
        if self.mode == "cloud":
            return {"JIRA_EMAIL": self.email, "JIRA_TOKEN": self.token}
        return {"JIRA_TOKEN": self.token}

    # --- payloads --------------------------------------------------------------------------
    def time(self, stamp: pd.Timestamp) -> str:
        local = stamp.tz_convert(self.zone)
        return (
            local.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{local.microsecond // 1000:03d}"
            + local.strftime("%z")
        )

    def status_json(self, name: str) -> dict[str, Any]:
        sid, category = self.world.statuses[name]
        return {
            "self": f"{self.url}/rest/api/2/status/{sid}",
            "description": "",
            "iconUrl": f"{self.url}/images/icons/statuses/generic.png",
            "name": name,
            "untranslatedName": name,
            "id": sid,
            "statusCategory": {
                "self": f"{self.url}/rest/api/2/statuscategory/{CATEGORIES[category]['id']}",
                **CATEGORIES[category],
            },
        }

    def version_json(self, version) -> dict[str, Any]:
        out = {
            "self": f"{self.url}/rest/api/2/version/{version.id}",
            "id": version.id,
            "name": version.name,
            "archived": False,
            "released": version.released,
            "projectId": 10000,
        }
        if version.release_date:
            out["releaseDate"] = version.release_date
        return out

    def user_json(self, name: str) -> dict[str, Any]:
        """A user as Cloud (account id) or Data Center (user name and key) shows one."""
        account, key, display = USERS[name]
        if self.mode == "cloud":
            who = {"self": f"{self.url}/rest/api/2/user?accountId={account}",
                   "accountId": account}  # fmt: skip
        else:
            who = {"self": f"{self.url}/rest/api/2/user?username={name}", "name": name, "key": key}
        return {**who, "displayName": display, "active": True, "timeZone": self.zone_name}

    def comment_json(self, issue: Issue, comment: Comment, version: str) -> dict[str, Any]:
        """A comment; a flag comment's body as Jira writes it: wiki markup on REST API v2 (Data
        Center, and Cloud's v2), Atlassian Document Format on Cloud's v3."""
        if version == "3":
            paragraphs = []
            if comment.flag:
                flag = {"type": "emoji", "attrs": {"shortName": ":flag_on:",
                        "id": "atlassian-flag_on", "text": ":flag_on:"}}  # fmt: skip
                paragraphs.append([flag, {"type": "text", "text": " Flag added"}])
            paragraphs += [[{"type": "text", "text": p}] for p in comment.text.split("\n\n")]
            body: Any = {
                "type": "doc",
                "version": 1,
                "content": [{"type": "paragraph", "content": p} for p in paragraphs],
            }
        else:
            body = f"(flag) Flag added\n\n{comment.text}" if comment.flag else comment.text
        out = {
            "self": f"{self.url}/rest/api/{version}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user_json(comment.author),
            "body": body,
            "updateAuthor": self.user_json(comment.author),
            "created": self.time(comment.created),
            "updated": self.time(comment.created),
        }
        if self.mode == "cloud":
            out["jsdPublic"] = True
        return out

    def history_json(self, history, field_ids: set[str] | None = None) -> dict[str, Any] | None:
        items = []
        for item in history.items:
            item = dict(item)
            if item["field"] == "Flagged":
                if self.mode == "cloud":
                    item["fieldId"] = self.flag_field_id
                else:
                    item.pop("fieldId")  # Data Center changelog items carry no fieldId
            if field_ids is not None and item.get("fieldId") not in field_ids:
                continue
            items.append(item)
        if not items:
            return None
        return {
            "id": str(history.id),
            "author": self.user_json(history.author),
            "created": self.time(history.created),
            "items": items,
        }

    def issue_json(
        self,
        issue: Issue,
        fields: list[str],
        expand: str,
        cap: int | None = None,
        version: str = "2",
    ) -> dict[str, Any]:
        everything = not fields or any(f in ("*all", "*navigable") for f in fields)
        values = {
            "summary": issue.summary,
            "issuetype": {"id": "10001", "name": issue.issuetype, "subtask": False},
            "labels": list(issue.labels),
            "status": self.status_json(issue.status),
            "created": self.time(issue.created),
            "updated": self.time(issue.updated),
            "project": {"id": "10000", "key": issue.project, "name": f"Project {issue.project}"},
            "fixVersions": [
                self.version_json(v) for v in self.world.versions if v.id in issue.fix_versions
            ],
            self.flag_field_id: (
                [
                    {
                        "self": f"{self.url}/rest/api/2/customFieldOption/10019",
                        "value": "Impediment",
                        "id": "10019",
                    }
                ]
                if issue.flagged
                else None
            ),
            "comment": {
                "self": f"{self.url}/rest/api/{version}/issue/{issue.id}/comment",
                "total": len(issue.comments),
                "startAt": 0,
                "comments": [self.comment_json(issue, c, version) for c in issue.comments],
                "maxResults": len(issue.comments),
            },
        }
        chosen = values if everything else {k: v for k, v in values.items() if k in fields}
        out: dict[str, Any] = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": str(issue.id),
            "self": f"{self.url}/rest/api/2/issue/{issue.id}",
            "key": issue.key,
            "fields": chosen,
        }
        if "changelog" in (expand or ""):
            newest_first = [self.history_json(h) for h in reversed(issue.histories)]
            shown = newest_first[: self.embedded_cap if cap is None else cap]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(shown),
                "total": len(newest_first),
                "histories": shown,
            }
        return out

    def fields_json(self) -> list[dict[str, Any]]:
        def system(fid: str, name: str) -> dict[str, Any]:
            return {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "navigable": True,
                "searchable": True,
                "clauseNames": [fid],
            }

        def custom(num: int, name: str, kind: str) -> dict[str, Any]:
            fid = f"customfield_{num}"
            return {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{num}]", name],
                "schema": {"type": "array", "items": "option", "custom": kind, "customId": num},
            }

        flag_num = int(self.flag_field_id.split("_")[1])
        kinds = "com.atlassian.jira.plugin.system.customfieldtypes"
        return [
            system("summary", "Summary"),
            system("status", "Status"),
            system("issuetype", "Issue Type"),
            system("labels", "Labels"),
            system("created", "Created"),
            system("updated", "Updated"),
            system("project", "Project"),
            system("fixVersions", "Fix versions"),
            system("comment", "Comment"),
            custom(10020, "Sprint", "com.pyxis.greenhopper.jira:gh-sprint"),
            custom(
                10099,
                "Flagged reason",
                "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            ),
            custom(
                flag_num,
                "Flagged",
                f"{kinds}:multicheckboxes",
            ),
        ]

    # --- queries ---------------------------------------------------------------------------
    def _resolve(self, field_name: str, op: str, values: list[str]):
        world = self.world
        if field_name == "project":
            for v in values:
                if v.upper() not in world.projects:
                    raise JQLError(f"The value '{v}' does not exist for the field 'project'.")
            wanted = {v.upper() for v in values}
            return _compare(op, lambda i: i.project, wanted)
        if field_name in ("key", "issuekey"):
            return _compare(op, lambda i: i.key, {v.upper() for v in values})
        if field_name in ("issuetype", "type"):
            return _compare(op, lambda i: i.issuetype.casefold(), {v.casefold() for v in values})
        if field_name == "status":
            return _compare(op, lambda i: i.status.casefold(), {v.casefold() for v in values})
        if field_name == "labels":
            wanted = set(values)
            if op in ("=", "in"):
                return lambda i: bool(wanted & set(i.labels))
            return lambda i: not (wanted & set(i.labels))
        if field_name == "fixversion":
            ids = {ver.id for ver in world.versions if ver.id in values or ver.name in values}
            if op in ("=", "in"):
                return lambda i: bool(ids & set(i.fix_versions))
            return lambda i: not (ids & set(i.fix_versions))
        # updated / created: dates in the user's time zone, minute precision
        stamp = parse_date(values[0], self.zone)
        attr = (lambda i: i.updated) if field_name == "updated" else (lambda i: i.created)
        ops = {
            ">=": lambda i: attr(i) >= stamp,
            ">": lambda i: attr(i) > stamp,
            "<=": lambda i: attr(i) <= stamp,
            "<": lambda i: attr(i) < stamp,
            "=": lambda i: attr(i) == stamp,
        }
        if op not in ops:
            raise JQLError(f"The operator '{op}' is not supported by the '{field_name}' field.")
        return ops[op]

    def query(self, jql: str) -> list[Issue]:
        with self._lock:
            self.jqls.append(jql)
        parser = Parser(jql, self._resolve)
        predicate = parser.parse()
        found = [i for i in self.world.issues.values() if predicate(i)]
        order = parser.order_by or [("key", False)]
        for name, asc in reversed(order):
            found.sort(key=_sort_key(name), reverse=not asc)
        return found

    def next_token(self, jql: str, offset: int) -> str:
        token = base64.urlsafe_b64encode(f"{len(self._tokens)}:{offset}".encode()).decode()
        self._tokens[token] = (jql, offset)
        return token


def _compare(op: str, get, wanted: set[str]):
    if op in ("=", "in"):
        return lambda i: get(i) in wanted
    if op in ("!=", "not in"):
        return lambda i: get(i) not in wanted
    raise JQLError(f"The operator '{op}' is not supported by this field.")


def _sort_key(name: str):
    if name in ("key", "issuekey"):
        return lambda i: (i.project, int(i.key.rsplit("-", 1)[1]))
    if name == "created":
        return lambda i: i.created
    if name == "updated":
        return lambda i: i.updated
    if name == "status":
        return lambda i: i.status
    return lambda i: i.key


class _Handler(BaseHTTPRequestHandler):
    jira: FakeJira
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the log
        return None

    # --- plumbing --------------------------------------------------------------------------
    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = (
            b""
            if body is None
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        self.send_response(status)
        ctype = "text/plain" if isinstance(body, str) else "application/json;charset=UTF-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        # A client that gave up waiting (the timeout tests) has closed the connection.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _error(self, status: int, *messages: str, headers=None) -> None:
        self._send(status, {"errorMessages": list(messages), "errors": {}}, headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _authorized(self) -> bool | None:
        """True when signed in correctly, None when anonymous, False when wrong."""
        header = self.headers.get("Authorization")
        if not header:
            return None
        fake = self.jira
        if fake.reject_auth:
            return False
        if fake.mode == "cloud":
            expected = base64.b64encode(f"{fake.email}:{fake.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {fake.token}"

    def _handle(self, method: str) -> None:
        fake = self.jira
        parsed = urlparse(self.path)
        path = parsed.path
        query = parse_qs(parsed.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with fake._lock:
            fake.requests.append((method, path))
            fake.bodies.append(body)
            fake.queries.append(query)
            failure = next((f for f in fake.failures if f.times > 0 and f.path_part in path), None)
            if failure is not None and failure.after > 0:
                failure.after -= 1
                failure = None
            elif failure is not None:
                failure.times -= 1
            delay = next((d for d in fake.delays if d.times > 0 and d.path_part in path), None)
            if delay is not None:
                delay.times -= 1
        if delay is not None:
            time.sleep(delay.seconds)
        if failure is not None:
            payload = failure.body
            if failure.echo:
                auth = self.headers.get("Authorization", "")
                payload = {
                    "errorMessages": [
                        f"Request rejected; headers were {dict(self.headers.items())!r}",
                        f"credential {auth.split(' ')[-1]}",
                    ],
                    "errors": {},
                }
            elif payload is None:
                payload = {"errorMessages": [f"Injected failure {failure.status}"], "errors": {}}
            self._send(failure.status, payload, failure.headers)
            return
        ctype = self.headers.get("Content-Type") or ""
        if method == "POST" and not ctype.startswith("application/json"):
            self._error(415, "Unsupported Media Type: send application/json")
            return
        try:
            self._route(method, path, query, body)
        except JQLError as exc:
            self._error(400, str(exc))

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        fake = self.jira
        parts = [unquote(p) for p in path.strip("/").split("/")]
        versions = ("2", "3", "latest") if fake.mode == "cloud" else ("2", "latest")
        auth = self._authorized()
        if parts[:2] == ["rest", "api"] and len(parts) >= 4 and parts[2] in versions:
            rest = parts[3:]
            if rest == ["serverInfo"] and auth is not False:
                return self._send(200, self._server_info())
            if auth is not True:
                return self._send(401, "Client must be authenticated to access this resource.")
            if fake.forbid:
                return self._error(
                    403, "You do not have the permission to see the specified issue."
                )
            return self._api(method, parts[2], rest, query, body)
        if parts[:3] == ["rest", "agile", "1.0"] and len(parts) == 6 and parts[3] == "board":
            if auth is not True:
                return self._send(401, "Client must be authenticated to access this resource.")
            return self._board(parts[4], parts[5])
        return self._error(404, "Null")

    def _server_info(self) -> dict[str, Any]:
        fake = self.jira
        info = {
            "baseUrl": fake.url,
            "buildDate": "2024-03-01T00:00:00.000+0000",
            "serverTime": fake.time(fake.now or pd.Timestamp.now(tz="UTC")),
            "scmInfo": "abc123",
            "serverTitle": "Jira",
        }
        if fake.mode == "cloud":
            info.update(
                version="1001.0.0-SNAPSHOT",
                versionNumbers=[1001, 0, 0],
                buildNumber=100260,
                deploymentType="Cloud",
            )
        else:
            info.update(
                version="9.12.2",
                versionNumbers=[9, 12, 2],
                buildNumber=9120002,
                deploymentType="Server",
            )
        if fake.hide_deployment_type:
            info.pop("deploymentType")
        return info

    def _api(self, method, version, rest, query, body) -> None:
        fake = self.jira
        world = fake.world
        if rest == ["field"]:
            return self._send(200, fake.fields_json())
        if rest == ["myself"]:
            return self._send(
                200,
                {
                    "accountId": "5e9711ba34f7b90c0fbc37d3",
                    "name": "lead",
                    "emailAddress": fake.email,
                    "displayName": "Team Lead",
                    "timeZone": fake.zone_name,
                    "active": True,
                },
            )
        if rest == ["status"]:
            return self._send(200, [fake.status_json(n) for n in world.statuses])
        if rest == ["search", "jql"]:
            if fake.mode != "cloud":
                return self._error(404, "Null")
            return self._search_jql(query, body, version)
        if rest == ["search"]:
            if fake.mode == "cloud":
                return self._error(
                    410,
                    "The requested API has been removed. Please migrate to the "
                    "/rest/api/3/search/jql API. A full migration guideline is available at "
                    "https://developer.atlassian.com/changelog/#CHANGE-2046",
                )
            return self._search_classic(query, body, version)
        if rest == ["changelog", "bulkfetch"] and method == "POST":
            if fake.mode != "cloud":
                return self._error(404, "Null")
            return self._bulkfetch(body or {})
        if len(rest) == 3 and rest[0] == "issue" and rest[2] == "changelog":
            if not fake.changelog_endpoint:
                return self._send(404, {"message": f"null for uri: {fake.url}{self.path}",
                                        "status-code": 404})  # fmt: skip
            return self._changelog(rest[1], query)
        if len(rest) == 2 and rest[0] == "issue":
            return self._issue(rest[1], query, version)
        if len(rest) == 3 and rest[0] == "project" and rest[2] == "versions":
            key = rest[1].upper()
            if key not in world.projects:
                return self._error(404, f"No project could be found with key '{rest[1]}'.")
            return self._send(
                200, [fake.version_json(v) for v in world.versions if v.project == key]
            )
        return self._error(404, "Null")

    def _params(self, query, body) -> dict[str, Any]:
        if body:
            return dict(body)
        out: dict[str, Any] = {k: v[-1] for k, v in query.items()}
        out["fields"] = [f for v in query.get("fields", []) for f in v.split(",") if f]
        return out

    def _search_jql(self, query, body, version: str) -> None:
        fake = self.jira
        params = self._params(query, body)
        token = params.get("nextPageToken")
        jql = params.get("jql", "")
        offset = 0
        if token:
            if token not in fake._tokens or fake._tokens[token][0] != jql:
                return self._error(400, "The provided next page token is invalid or expired.")
            offset = fake._tokens[token][1]
        size = min(int(params.get("maxResults") or 50), fake.page_cap)
        found = fake.query(jql)
        page = found[offset : offset + size]
        result: dict[str, Any] = {
            "issues": [
                fake.issue_json(
                    i, params.get("fields") or [], params.get("expand") or "", version=version
                )
                for i in page
            ],
            "isLast": offset + size >= len(found),
        }
        if offset + size < len(found):
            result["nextPageToken"] = fake.next_token(jql, offset + size)
        self._send(200, result)

    def _search_classic(self, query, body, version: str) -> None:
        fake = self.jira
        params = self._params(query, body)
        start = int(params.get("startAt") or 0)
        size = min(int(params.get("maxResults") or 50), fake.page_cap)
        found = fake.query(params.get("jql", ""))
        page = found[start : start + size]
        self._send(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(found),
                "issues": [
                    fake.issue_json(
                        i, params.get("fields") or [], params.get("expand") or "", version=version
                    )
                    for i in page
                ],
            },
        )

    def _find_issue(self, key_or_id: str) -> Issue | None:
        world = self.jira.world
        if key_or_id.upper() in world.issues:
            return world.issues[key_or_id.upper()]
        return next((i for i in world.issues.values() if str(i.id) == key_or_id), None)

    def _issue(self, key: str, query, version: str) -> None:
        fake = self.jira
        issue = self._find_issue(key)
        if issue is None:
            return self._error(404, "Issue does not exist or you do not have permission to see it.")
        params = self._params(query, None)
        # Data Center embeds an issue's whole changelog; Cloud caps it like a search does.
        cap = fake.embedded_cap if fake.mode == "cloud" else len(issue.histories)
        self._send(200, fake.issue_json(issue, params.get("fields") or [],
                                        params.get("expand") or "", cap, version))  # fmt: skip

    def _changelog(self, key: str, query) -> None:
        fake = self.jira
        issue = self._find_issue(key)
        if issue is None:
            return self._error(404, "Issue does not exist or you do not have permission to see it.")
        start = int((query.get("startAt") or ["0"])[-1])
        size = min(int((query.get("maxResults") or ["100"])[-1]), fake.changelog_page_cap)
        values = [fake.history_json(h) for h in issue.histories]  # oldest first
        page = values[start : start + size]
        self._send(
            200,
            {
                "self": f"{fake.url}/rest/api/2/issue/{issue.key}/changelog?startAt={start}",
                "maxResults": size,
                "startAt": start,
                "total": len(values),
                "isLast": start + size >= len(values),
                "values": page,
            },
        )

    def _bulkfetch(self, body: dict[str, Any]) -> None:
        fake = self.jira
        keys = body.get("issueIdsOrKeys") or []
        field_ids = body.get("fieldIds") or []
        if not keys or len(keys) > 1000:
            return self._error(400, "issueIdsOrKeys must contain between 1 and 1000 issues.")
        if len(field_ids) > 10:
            return self._error(400, "fieldIds must contain at most 10 fields.")
        wanted = set(field_ids) if field_ids else None
        rows = []
        for key in keys:
            issue = self._find_issue(str(key))
            if issue is None:
                continue
            for history in issue.histories:
                shown = fake.history_json(history, wanted)
                if shown is not None:
                    rows.append((history.created, issue.id, shown))
        rows.sort(key=lambda r: (r[0], r[1]))  # oldest first, then by issue id
        offset = 0
        token = body.get("nextPageToken")
        if token:
            offset = fake._tokens.get(token, ("", 0))[1]
        size = min(int(body.get("maxResults") or 1000), fake.bulk_page_cap)
        page = rows[offset : offset + size]
        grouped: dict[int, list[dict[str, Any]]] = {}
        for _, issue_id, shown in page:
            grouped.setdefault(issue_id, []).append(shown)
        result: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": str(i), "changeHistories": h} for i, h in grouped.items()
            ]
        }
        if offset + size < len(rows):
            result["nextPageToken"] = fake.next_token("bulk", offset + size)
        self._send(200, result)

    def _board(self, board_id: str, what: str) -> None:
        fake = self.jira
        board = fake.world.boards.get(int(board_id)) if board_id.isdigit() else None
        if board is None or what != "configuration":
            return self._error(404, "Board does not exist or you do not have permission to see it.")
        columns = []
        for name, statuses, limit in board.columns:
            column: dict[str, Any] = {
                "name": name,
                "statuses": [
                    {
                        "id": fake.world.statuses[s][0],
                        "self": f"{fake.url}/rest/api/2/status/{fake.world.statuses[s][0]}",
                    }
                    for s in statuses
                ],
            }
            if limit is not None:
                column["max"] = limit
            columns.append(column)
        self._send(
            200,
            {
                "id": board.id,
                "name": board.name,
                "type": "kanban",
                "self": f"{fake.url}/rest/agile/1.0/board/{board.id}/configuration",
                "location": {"type": "project", "key": "ABC", "id": "10000", "name": "Project ABC"},
                "filter": {"id": "10000", "self": f"{fake.url}/rest/api/2/filter/10000"},
                "columnConfig": {"columns": columns, "constraintType": "issueCount"},
                "ranking": {"rankCustomFieldId": 10019},
            },
        )
