"""Building the `jira` library's client: Cloud or Data Center, and the matching sign-in.

Jira Cloud wants HTTP basic auth with the account e-mail and an API token; Data Center wants a
personal access token as a bearer token. `serverInfo` (readable without signing in) says which
one a site is, so `deployment = "auto"` asks it first.
"""

from __future__ import annotations

from collections.abc import Mapping

from jira import JIRA

from connectors.jira.calls import JiraError, call
from connectors.jira.settings import JiraSettings
from connectors.secrets import remember_basic_auth, require_secret


def is_cloud(client: JIRA) -> bool:
    return client.deploymentType == "Cloud"


def deployment_name(client: JIRA) -> str:
    return "Jira Cloud" if is_cloud(client) else "Jira Data Center"


def _client(settings: JiraSettings, **auth) -> JIRA:
    return JIRA(
        server=settings.url,
        # Retries are ours (connectors.jira.calls); the library's would sleep uncapped.
        max_retries=0,
        timeout=settings.timeout,
        options={"check_update": False},
        **auth,
    )


def probe_deployment(settings: JiraSettings) -> str | None:
    """`cloud` or `datacenter` from an anonymous serverInfo; None when the site does not say."""
    try:
        anonymous = call(settings, "reading serverInfo", _client, settings)
    except JiraError as exc:
        if exc.status in (401, 403):
            return None
        raise
    try:
        if not anonymous.deploymentType:
            return None  # an old or proxied site that does not say
        return "cloud" if is_cloud(anonymous) else "datacenter"
    finally:
        anonymous.close()


def make_client(settings: JiraSettings, secrets: Mapping[str, str]) -> JIRA:
    """A signed-in client for the site of `settings` (credentials from `secrets`)."""
    source = f"jira {settings.url}"
    deployment: str | None = settings.deployment
    if deployment == "auto":
        deployment = probe_deployment(settings)
        if deployment is None:
            # A site that hides serverInfo from anonymous users: go by the credentials given.
            has_email = bool(secrets.get(settings.email_env, "").strip())
            deployment = "cloud" if has_email else "datacenter"
    token = require_secret(secrets, settings.token_env, source)
    cloud = deployment == "cloud"
    if cloud:
        email = secrets.get(settings.email_env, "").strip()
        if not email:
            raise JiraError(
                f"Jira at {settings.url} is Jira Cloud, which signs in with an account e-mail and "
                f"an API token: set {settings.email_env} as well as {settings.token_env}"
            )
        remember_basic_auth(email, token, settings.email_env, settings.token_env)
        auth: dict[str, object] = {"basic_auth": (email, token)}
    else:
        auth = {"token_auth": token}
    client = call(settings, "signing in (serverInfo)", _client, settings, cloud=cloud, **auth)
    if settings.deployment != "auto":
        # A deployment set in the configuration wins over what serverInfo says (or omits): the
        # library picks its search endpoint from this attribute.
        client.deploymentType = "Cloud" if cloud else "Server"
    return client
