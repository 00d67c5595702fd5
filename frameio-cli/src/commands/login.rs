//! `fio login`, `fio logout`, `fio whoami`: signing in and out, and who is
//! signed in.
//!
//! `login` signs in with Adobe IMS in the browser (an "OAuth Native App" or
//! single-page app credential: authorization code with PKCE, received on
//! `http://127.0.0.1:<port>/callback`), or takes a token (`--token`). Either
//! way Frame.io is asked who the user is before anything is stored, so a
//! wrong token is never kept.

use std::io::{BufRead as _, Read as _};
use std::time::Duration;

use frameio_ext::auth::TokenSet;
use frameio_ext::ims::{ExposeSecret, ImsPkceApp, LoopbackRedirect};
use frameio_ext::{AccessToken, Client, Credentials};
use serde_json::json;

use crate::cli::{Global, LoginArgs};
use crate::error::{Failure, Result, SIGN_IN_AGAIN};
use crate::output::{self, Table, note};
use crate::session::{self, Ctx, TOKEN_VAR};
use crate::store::{Backend, Kind, Session};

/// Longest token read from stdin.
const MAX_TOKEN: usize = 64 * 1024;

/// `fio login`.
pub async fn login(global: &Global, args: LoginArgs) -> Result<()> {
    let vault = session::vault(global)?;
    let (mut stored, tokens, client) = match &args.token {
        Some(token) => with_token(global, &args, token)?,
        None => with_ims(global, &args).await?,
    };
    let me = client.users_show().await.map_err(|e| {
        if e.is_unauthorized() {
            Failure::auth("Frame.io rejected this sign-in (401): the token is expired, revoked or not for this API")
        } else {
            e.into()
        }
    })?;
    vault.save(&mut stored, &tokens).await?;
    let place = stored.store.describe(vault.paths());
    if global.json {
        output::json(&json!({ "user": me.data, "store": stored.store, "kind": stored.kind }))
    } else {
        output::out(&format!("Signed in as {} <{}>; the sign-in is kept in {place}.\n", me.data.name, me.data.email))
    }
}

type SignedIn = (Session, TokenSet, Client);

fn with_token(global: &Global, args: &LoginArgs, token: &str) -> Result<SignedIn> {
    let token = if token == "-" { read_stdin_token()? } else { token.trim().to_string() };
    if token.is_empty() || token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Failure::usage("the token is empty or has spaces or control characters in it"));
    }
    let credentials = if args.legacy {
        Credentials::legacy_developer_token(token.clone())
    } else {
        Credentials::bearer(token.clone())
    };
    let client = session::client(credentials, global.base_url.as_deref())?;
    let stored = Session {
        kind: Kind::Token,
        store: Backend::File,
        legacy: args.legacy,
        base_url: global.base_url.clone(),
        client_id: None,
        ims_url: None,
        redirect_uri: None,
        scopes: None,
    };
    Ok((stored, TokenSet::new(AccessToken::new(token)), client))
}

fn read_stdin_token() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_TOKEN as u64)
        .read_line(&mut line)
        .map_err(|e| Failure::local(format!("could not read the token from stdin: {e}")))?;
    Ok(line.trim().to_string())
}

async fn with_ims(global: &Global, args: &LoginArgs) -> Result<SignedIn> {
    let client_id = args.client_id.clone().filter(|id| !id.trim().is_empty()).ok_or_else(|| {
        Failure::usage(
            "signing in with Adobe IMS needs your credential's client id: pass --client-id or set FIO_CLIENT_ID \
             (or sign in with --token)",
        )
    })?;
    let redirect = LoopbackRedirect::bind(args.port).await.map_err(|e| {
        Failure::local(format!(
            "could not listen on 127.0.0.1:{} for the sign-in redirect ({e}); pass --port with another port \
             registered on the credential",
            args.port
        ))
    })?;
    let mut builder = ImsPkceApp::builder().client_id(&client_id).redirect_uri(redirect.redirect_uri());
    if let Some(url) = &args.ims_url {
        builder = builder.ims_base_url(url);
    }
    if !args.scopes.is_empty() {
        builder = builder.scopes(args.scopes.clone());
    }
    let app = builder.build()?;
    let (request, verifier) = app.authorization_url();
    note(format!(
        "Open this URL in a browser to sign in to Frame.io:\n\n  {}\n\nWaiting up to {} s for the sign-in \
         (redirect to {}); Ctrl-C to give up.",
        request.url(),
        args.timeout,
        redirect.redirect_uri()
    ));
    let code = tokio::time::timeout(Duration::from_secs(args.timeout), redirect.wait_for_code(request.state()))
        .await
        .map_err(|_| Failure::auth(format!("no sign-in within {} s; run `fio login` again", args.timeout)))??;
    app.exchange_code(code.expose_secret(), &verifier).await.map_err(|e| Failure::from_auth(&e))?;
    let tokens = app.export().ok_or_else(|| Failure::internal("IMS issued no tokens"))?;
    let client = session::client(Credentials::provider(app), global.base_url.as_deref())?;
    let stored = Session {
        kind: Kind::Ims,
        store: Backend::File,
        legacy: false,
        base_url: global.base_url.clone(),
        client_id: Some(client_id),
        ims_url: args.ims_url.clone(),
        redirect_uri: Some(redirect.redirect_uri().to_string()),
        scopes: (!args.scopes.is_empty()).then(|| args.scopes.clone()),
    };
    Ok((stored, tokens, client))
}

/// `fio logout`.
pub async fn logout(global: &Global) -> Result<()> {
    let vault = session::vault(global)?;
    let stored = vault.load().await.ok().flatten();
    let mut revoked = None;
    if let Some((stored, tokens)) = &stored
        && stored.kind == Kind::Ims
    {
        let provider = session::ims_provider(stored, None)?;
        provider.import(tokens.clone());
        revoked = Some(provider.revoke().await);
    }
    let had = vault.clear().await?;
    if let Some(Err(e)) = &revoked {
        note(format!("fio: warning: the local sign-in is gone, but IMS did not confirm the revocation: {e}"));
    }
    let message = match (had, revoked) {
        (false, _) => "Not signed in.",
        (true, Some(Ok(()))) => "Signed out; IMS revoked the tokens.",
        (true, _) => "Signed out.",
    };
    if global.json { output::json(&json!({ "signed_out": had })) } else { output::out(&format!("{message}\n")) }
}

/// `fio whoami`.
pub async fn whoami(ctx: &Ctx, global: &Global) -> Result<()> {
    let me = ctx.client.users_show().await.map_err(|e| {
        if e.is_unauthorized() {
            Failure::auth(format!(
                "Frame.io rejected the stored sign-in (401): it expired or was revoked; {SIGN_IN_AGAIN}"
            ))
        } else {
            e.into()
        }
    })?;
    let accounts = ctx.accounts().await?;
    let from = whence(global).await;
    if ctx.json {
        return output::json(&json!({ "user": me.data, "accounts": accounts, "credentials": from }));
    }
    output::out(&format!("{} <{}>  (user {})\nsigned in with: {}\n\n", me.data.name, me.data.email, me.data.id, from))?;
    let mut table = Table::new(&["ACCOUNT", "ID", "STORAGE USED"]);
    for account in accounts {
        table.row(vec![
            account.display_name.clone(),
            account.id.clone(),
            output::bytes(u64::try_from(account.storage_usage).unwrap_or(0)),
        ]);
    }
    table.print()
}

/// Where the credentials in use came from, for `whoami` (never the token).
async fn whence(global: &Global) -> String {
    if std::env::var(TOKEN_VAR).is_ok_and(|t| !t.trim().is_empty()) {
        return format!("the {TOKEN_VAR} environment variable");
    }
    let Ok(vault) = session::vault(global) else { return "unknown".into() };
    match vault.load().await {
        Ok(Some((stored, _))) => {
            let kind = match (stored.kind, stored.legacy) {
                (Kind::Ims, _) => "Adobe IMS sign-in",
                (Kind::Token, true) => "legacy developer token",
                (Kind::Token, false) => "access token",
            };
            format!("{kind}, kept in {}", stored.store.describe(vault.paths()))
        }
        _ => "unknown".into(),
    }
}
