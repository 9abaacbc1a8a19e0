// A chat widget's login through authserver (OIDC Core, RFC 7636 PKCE, RFC 9207 iss), with no
// library: the browser's WebCrypto makes the PKCE pair, sessionStorage keeps it for the return.
// Serve this folder from http://127.0.0.1:8080/ (python3 -m http.server 8080) and register the
// client with --redirect-uri http://127.0.0.1:8080/ (see the README, "Browser login").
const config = {
  issuer: new URLSearchParams(location.search).get("issuer") || "http://127.0.0.1:5000/realms/default",
  clientId: "chat-widget",
  redirectUri: location.origin + "/",
  audience: "chat-api",
  scope: "openid profile email chat:read",
};
const out = (value) => { document.getElementById("out").textContent = JSON.stringify(value, null, 2); };
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

async function metadata() {
  return (await fetch(config.issuer + "/.well-known/openid-configuration")).json();
}

async function login() {
  const verifier = random(), state = random(), nonce = random();
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("login", JSON.stringify({ verifier, state, nonce }));
  const url = new URL((await metadata()).authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: config.clientId, redirect_uri: config.redirectUri, scope: config.scope,
    audience: config.audience, state, nonce, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(url);
}

async function token(form) {
  const response = await fetch((await metadata()).token_endpoint, {
    method: "POST", body: new URLSearchParams({ client_id: config.clientId, ...form }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error}: ${body.error_description}`);
  sessionStorage.setItem("tokens", JSON.stringify(body));
  return body;
}

async function finishLogin(params) {
  const pending = JSON.parse(sessionStorage.getItem("login") || "null");
  sessionStorage.removeItem("login");
  history.replaceState(null, "", location.pathname);  // the code leaves the address bar
  if (!pending || params.get("state") !== pending.state) throw new Error("state does not match");
  if (params.get("iss") !== config.issuer) throw new Error("iss does not match (RFC 9207)");
  if (params.get("error")) throw new Error(`${params.get("error")}: ${params.get("error_description")}`);
  const tokens = await token({ grant_type: "authorization_code", code: params.get("code"),
                               redirect_uri: config.redirectUri, code_verifier: pending.verifier });
  const idToken = JSON.parse(atob(tokens.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  if (idToken.nonce !== pending.nonce) throw new Error("nonce does not match");
  return { id_token_claims: idToken, chat_token: tokens.access_token, expires_in: tokens.expires_in };
}

function showLoggedIn(result) {
  out(result);
  document.getElementById("refresh").disabled = document.getElementById("logout").disabled = false;
}

document.getElementById("login").onclick = () => login().catch((e) => out(String(e)));
document.getElementById("refresh").onclick = async () => {
  const { refresh_token } = JSON.parse(sessionStorage.getItem("tokens"));
  token({ grant_type: "refresh_token", refresh_token }).then(showLoggedIn, (e) => out(String(e)));
};
document.getElementById("logout").onclick = async () => {
  const { id_token } = JSON.parse(sessionStorage.getItem("tokens"));
  sessionStorage.clear();
  const url = new URL((await metadata()).end_session_endpoint);
  url.search = new URLSearchParams({ id_token_hint: id_token, post_logout_redirect_uri: config.redirectUri });
  location.assign(url);
};

const params = new URLSearchParams(location.search);
if (params.has("code") || params.has("error")) finishLogin(params).then(showLoggedIn, (e) => out(String(e)));
