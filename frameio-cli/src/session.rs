//! The client a command talks to Frame.io with, made from the stored sign-in
//! (or `FRAMEIO_TOKEN`), and the bookkeeping that keeps a renewed IMS token.
//!
//! An IMS sign-in is an [`ImsPkceApp`] provider restored from the saved
//! tokens: an expired access token is renewed with the refresh token on first
//! use, and each renewal's tokens (IMS may rotate the refresh token) are
//! written back by [`Ctx::finish`] when the command ends, whatever its
//! outcome, so the next run starts from them.

use std::sync::{Arc, Mutex, PoisonError};

use frameio_ext::auth::TokenSet;
use frameio_ext::ims::ImsPkceApp;
use frameio_ext::types::Account;
use frameio_ext::{Client, Credentials};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::OnceCell;

use crate::cli::Global;
use crate::error::{Failure, Result};
use crate::store::{Kind, Paths, Session, Vault};

/// The `User-Agent` of every request: `fio/<version> frameio-rs/<version>`.
fn user_agent() -> String {
    format!("fio/{} {}", env!("CARGO_PKG_VERSION"), frameio_ext::client::DEFAULT_USER_AGENT)
}

/// The variable a token can come from instead of a stored sign-in.
pub const TOKEN_VAR: &str = "FRAMEIO_TOKEN";

/// Most accounts looked through for an id when `--account` is not given.
const MAX_ACCOUNTS: usize = 50;

/// A command's connection: the client, the account it works in, and how to
/// print.
#[derive(Debug)]
pub struct Ctx {
    /// The client.
    pub client: Client,
    /// `--json`.
    pub json: bool,
    account: Option<String>,
    accounts: OnceCell<Vec<Account>>,
    renewals: Option<Renewals>,
    vault: Option<Vault>,
}

/// An IMS sign-in's renewed tokens, waiting to be stored.
#[derive(Debug)]
struct Renewals {
    session: Session,
    latest: Arc<Mutex<Option<TokenSet>>>,
}

impl Ctx {
    /// Connects as the stored sign-in, or as `FRAMEIO_TOKEN` when it is set.
    pub async fn connect(global: &Global) -> Result<Self> {
        let vault = vault(global)?;
        if let Some(token) = std::env::var(TOKEN_VAR).ok().filter(|t| !t.trim().is_empty()) {
            let client = client(Credentials::bearer(token.trim()), global.base_url.as_deref())?;
            return Ok(Self::new(client, global, None, Some(vault)));
        }
        let Some((session, tokens)) = vault.load().await? else {
            return Err(Failure::auth(format!("not signed in: run `fio login` (or set {TOKEN_VAR})")));
        };
        let base_url = global.base_url.as_deref().or(session.base_url.as_deref());
        match session.kind {
            Kind::Token => {
                let token = tokens.access_token().expose_secret().to_string();
                let credentials = if session.legacy {
                    Credentials::legacy_developer_token(token)
                } else {
                    Credentials::bearer(token)
                };
                Ok(Self::new(client(credentials, base_url)?, global, None, Some(vault)))
            }
            Kind::Ims => {
                let latest = Arc::new(Mutex::new(None));
                let provider = ims_provider(&session, Some(Arc::clone(&latest)))?;
                provider.import(tokens);
                let client = client(Credentials::provider(provider), base_url)?;
                Ok(Self::new(client, global, Some(Renewals { session, latest }), Some(vault)))
            }
        }
    }

    /// A connection with a client of the caller's and no stored sign-in (the demo's).
    pub fn with_client(client: Client, global: &Global) -> Self {
        Self::new(client, global, None, None)
    }

    fn new(client: Client, global: &Global, renewals: Option<Renewals>, vault: Option<Vault>) -> Self {
        Self { client, json: global.json, account: global.account.clone(), accounts: OnceCell::new(), renewals, vault }
    }

    /// Where secrets are kept.
    pub fn vault(&self) -> Result<&Vault> {
        self.vault.as_ref().ok_or_else(|| Failure::internal("this connection keeps no secrets"))
    }

    /// The accounts to look in: `--account`, else every account of the user.
    pub async fn account_ids(&self) -> Result<Vec<String>> {
        if let Some(account) = &self.account {
            return Ok(vec![account.clone()]);
        }
        Ok(self.accounts().await?.iter().map(|a| a.id.clone()).collect())
    }

    /// The user's accounts (at most 50), listed once.
    pub async fn accounts(&self) -> Result<&[Account]> {
        let accounts = self
            .accounts
            .get_or_try_init(|| async {
                let accounts: Vec<Account> =
                    self.client.accounts_index().stream().take(MAX_ACCOUNTS).try_collect().await?;
                Ok::<_, Failure>(accounts)
            })
            .await?;
        if accounts.is_empty() {
            return Err(Failure::not_found("this user belongs to no Frame.io account"));
        }
        Ok(accounts)
    }

    /// The one account to work in, for commands that name none of its
    /// resources: `--account`, else the user's only account.
    pub async fn single_account(&self) -> Result<String> {
        let mut ids = self.account_ids().await?;
        match ids.len() {
            1 => Ok(ids.remove(0)),
            n => Err(Failure::usage(format!(
                "this user belongs to {n} accounts: choose one with --account (`fio whoami` lists them)"
            ))),
        }
    }

    /// Stores the tokens IMS issued during the command, if any.
    pub async fn finish(&self) -> Result<()> {
        let Some(renewals) = &self.renewals else { return Ok(()) };
        let latest = renewals.latest.lock().unwrap_or_else(PoisonError::into_inner).take();
        match (latest, &self.vault) {
            (Some(tokens), Some(vault)) => vault.update_tokens(&renewals.session, &tokens).await,
            _ => Ok(()),
        }
    }
}

/// The vault of this invocation's options.
pub fn vault(global: &Global) -> Result<Vault> {
    Ok(Vault::new(Paths::locate()?, global.credential_store))
}

/// A client for `credentials` at `base_url` (default: Frame.io's).
pub fn client(credentials: Credentials, base_url: Option<&str>) -> Result<Client> {
    let mut builder = Client::builder().credentials(credentials).user_agent(user_agent());
    if let Some(base_url) = base_url {
        builder = builder.base_url(base_url);
    }
    builder.build().map_err(|e| Failure::usage(e.to_string()))
}

/// The IMS provider of a stored sign-in; renewed tokens go to `latest`.
pub fn ims_provider(session: &Session, latest: Option<Arc<Mutex<Option<TokenSet>>>>) -> Result<ImsPkceApp> {
    let damaged = || Failure::auth("the stored IMS sign-in lacks its client id; run `fio login`");
    let mut builder = ImsPkceApp::builder()
        .client_id(session.client_id.clone().ok_or_else(damaged)?)
        .redirect_uri(session.redirect_uri.clone().ok_or_else(damaged)?);
    if let Some(url) = &session.ims_url {
        builder = builder.ims_base_url(url);
    }
    if let Some(scopes) = &session.scopes {
        builder = builder.scopes(scopes.clone());
    }
    if let Some(latest) = latest {
        builder = builder.on_token(move |tokens| {
            *latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
        });
    }
    Ok(builder.build()?)
}
