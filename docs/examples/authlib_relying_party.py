"""A confidential relying party of Sleutel with Authlib 1.2 (Debian 12: python3-authlib).

Run: python3 authlib_relying_party.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
It prints the authorization URL, reads the URL the browser came back to (the redirect URI with
`code`, `state` and `iss`) from standard input, and prints what it got as JSON. A web application
does the same in its login and callback handlers; test/integration/relying-party-software.test.ts
runs this file against a real Sleutel.
"""
import json
import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

issuer, client_id, client_secret, redirect_uri = sys.argv[1:5]

# Discovery: take every endpoint from it.
meta = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
assert meta["issuer"] == issuer

client = OAuth2Session(
    client_id,
    client_secret,
    scope="openid email profile tenant",
    redirect_uri=redirect_uri,
    token_endpoint_auth_method="client_secret_basic",  # client_secret_post works too
    code_challenge_method="S256",  # PKCE is required for every client
)

# Login: code flow with PKCE, state and nonce (keep all three in the user's session).
code_verifier = generate_token(48)
nonce = generate_token(20)
authorization_url, state = client.create_authorization_url(
    meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
)
print(authorization_url, flush=True)

# Callback: check iss (RFC 9207; Authlib does not), then redeem the code (Authlib checks state).
callback = sys.stdin.readline().strip()
returned = parse_qs(urlparse(callback).query)
assert returned.get("iss") == [issuer], "authorization response from another issuer"
if "error" in returned:
    print(json.dumps({"error": returned["error"][0]}), flush=True)
    sys.exit(0)
token = client.fetch_token(
    meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=code_verifier
)

# The ID token: signature from the JWKS, iss, aud, nonce, expiry, at_hash.
jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
claims = jwt.decode(
    token["id_token"],
    jwks,
    claims_cls=CodeIDToken,
    claims_options={"iss": {"essential": True, "value": issuer}},
    claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
)
claims.validate(leeway=30)
if claims["pool"] != "staff":  # and claims["tenant"] must be the cooperative's slug
    raise SystemExit("not a staff account")

userinfo = client.get(meta["userinfo_endpoint"]).json()

# Refresh tokens rotate: keep the new one, the old one is spent.
refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])

introspection = client.introspect_token(meta["introspection_endpoint"], token=refreshed["access_token"]).json()

# At logout: revoke the refresh token (this also ends its access tokens), then send the browser to
# meta["end_session_endpoint"] with id_token_hint and post_logout_redirect_uri.
revocation = client.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token")
try:
    client.refresh_token(meta["token_endpoint"], refresh_token=refreshed["refresh_token"])
    after_revocation = "refreshed"
except OAuthError as error:
    after_revocation = error.error

print(
    json.dumps(
        {
            "claims": dict(claims),
            "userinfo": userinfo,
            "refreshed": refreshed["refresh_token"] != token["refresh_token"],
            "introspection": introspection,
            "revocation_status": revocation.status_code,
            "after_revocation": after_revocation,
        }
    ),
    flush=True,
)
