//! What every client is built from, whichever API it talks to: where the API
//! lives, who is asking, how long to wait, how to retry and pace, which HTTP
//! client and uploader to use. One [`Config`] (and one set of builder setters,
//! [`config_setters!`]) serves the V4 [`ClientBuilder`](crate::ClientBuilder)
//! and the C2C [`C2cClientBuilder`](crate::c2c::C2cClientBuilder); only their
//! defaults differ.
//!
//! Two rules protect credentials whatever the configuration:
//!
//! * the base URL must be `https`, except on a loopback host (a local test
//!   server); anything else needs the loudly named
//!   `danger_allow_plain_http(true)`;
//! * the HTTP client the builder makes never follows redirects: a redirect
//!   could carry a request's body (a client secret, a refresh token) to
//!   another host, so it is reported as
//!   [`Error::Redirect`](crate::Error::Redirect) instead.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::error::{Error, Result};
use crate::rate_limit::RateLimiting;
use crate::retry::RetryPolicy;
use crate::upload::Uploader;

/// Where Frame.io's APIs live.
pub const DEFAULT_BASE_URL: &str = "https://api.frame.io";
/// The `User-Agent` sent unless a builder's `user_agent` says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("frameio-rs/", env!("CARGO_PKG_VERSION"));
/// How long opening a connection may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One client's configuration (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) base_url: String,
    pub(crate) user_agent: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) rate_limiting: RateLimiting,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) uploader: Option<Uploader>,
    pub(crate) allow_plain_http: bool,
}

impl Config {
    /// A configuration with the shared defaults and these per-API ones.
    pub(crate) fn new(timeout: Duration, retry: RetryPolicy, rate_limiting: RateLimiting) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout,
            retry,
            rate_limiting,
            http_client: None,
            uploader: None,
            allow_plain_http: false,
        }
    }

    /// The base URL, checked: `http(s)`, no query or fragment, and `https`
    /// unless loopback or allowed; without a trailing `/`.
    pub(crate) fn checked_base_url(&self) -> Result<String> {
        let url = base_url(&self.base_url, self.allow_plain_http)
            .map_err(|reason| Error::Config(format!("the base URL {:?} {reason}", self.base_url)))?;
        Ok(url.as_str().trim_end_matches('/').to_string())
    }

    /// The `User-Agent` value.
    pub(crate) fn user_agent(&self) -> Result<HeaderValue> {
        HeaderValue::try_from(self.user_agent.as_str())
            .map_err(|_| Error::Config(format!("the user agent {:?} is not a valid header value", self.user_agent)))
    }

    /// The HTTP client: the one given, or a new one that follows no redirects.
    pub(crate) fn http(&self) -> Result<reqwest::Client> {
        match &self.http_client {
            Some(http) => Ok(http.clone()),
            None => http_client(self.connect_timeout),
        }
    }

    /// The uploader: the one given, or the default.
    pub(crate) fn uploader(&self) -> Result<Uploader> {
        match &self.uploader {
            Some(uploader) => Ok(uploader.clone()),
            None => {
                Uploader::builder().build().map_err(|e| Error::Config(format!("the uploader could not be set up: {e}")))
            }
        }
    }
}

/// An HTTP client for API and identity calls: rustls, no redirects.
pub(crate) fn http_client(connect_timeout: Duration) -> Result<reqwest::Client> {
    crate::tls::reqwest_builder(crate::tls::HTTP)
        .map_err(|e| Error::Config(format!("TLS could not be set up: {e}")))?
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("the HTTP client could not be set up: {e}")))
}

/// Parses and checks a base URL; the error says what is wrong with it.
pub(crate) fn base_url(raw: &str, allow_plain_http: bool) -> std::result::Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_plain_http || is_loopback(&url) => {}
        "http" => {
            return Err("is plain http to a host that is not loopback: tokens would travel in clear text; use https \
                        (or, on a network you trust, `danger_allow_plain_http(true)`)"
                .to_string());
        }
        _ => return Err("is not an http(s) URL".to_string()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_string());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_string());
    }
    Ok(url)
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The setters every client builder shares; the builder has a `config: Config` field.
macro_rules! config_setters {
    () => {
        /// Where the API lives (scheme, host, optional port and path stem;
        /// default `https://api.frame.io`). It must be `https` unless the host
        /// is loopback (see [`danger_allow_plain_http`](Self::danger_allow_plain_http)).
        pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
            self.config.base_url = base_url.into();
            self
        }

        /// Allows a plain `http` base URL on a host that is not loopback.
        /// Every request's bearer token then travels in clear text: only for a
        /// network you trust end to end (a proxy on the same machine, a test rig).
        pub fn danger_allow_plain_http(mut self, allow: bool) -> Self {
            self.config.allow_plain_http = allow;
            self
        }

        /// The `User-Agent` header, replacing `frameio-rs/<version>`; name your
        /// application so Frame.io can tell its traffic apart.
        pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
            self.config.user_agent = user_agent.into();
            self
        }

        /// How long opening a connection may take (default 10 s). Not applied
        /// to a client given to [`http_client`](Self::http_client).
        pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.config.connect_timeout = timeout;
            self
        }

        /// How long each attempt may take, response body included.
        pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
            self.config.timeout = timeout;
            self
        }

        /// When and how long to retry (see [`RetryPolicy`](crate::RetryPolicy)).
        pub fn retry_policy(mut self, retry: crate::RetryPolicy) -> Self {
            self.config.retry = retry;
            self
        }

        /// Client-side pacing to the rate limits (see
        /// [`RateLimiting`](crate::rate_limit::RateLimiting)).
        pub fn rate_limiting(mut self, rate_limiting: crate::rate_limit::RateLimiting) -> Self {
            self.config.rate_limiting = rate_limiting;
            self
        }

        /// The `reqwest::Client` to send with, for proxies, custom TLS roots or
        /// a shared connection pool. Its default headers and timeouts stay; this
        /// builder's user agent and per-attempt timeout are set on each request.
        /// Build it with `redirect(reqwest::redirect::Policy::none())`: a client
        /// that follows redirects can carry request bodies (secrets) elsewhere,
        /// after [`tls::install_default_provider`](crate::tls::install_default_provider)
        /// (reqwest has no TLS provider of its own here).
        pub fn http_client(mut self, client: reqwest::Client) -> Self {
            self.config.http_client = Some(client);
            self
        }

        /// The [`Uploader`](crate::upload::Uploader) that sends file bytes to
        /// storage (concurrency, buffers, part retries); its defaults otherwise.
        pub fn uploader(mut self, uploader: crate::upload::Uploader) -> Self {
            self.config.uploader = Some(uploader);
            self
        }
    };
}

pub(crate) use config_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_except_on_loopback() {
        assert!(base_url("https://api.frame.io", false).is_ok());
        for local in ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:1", "http://127.9.9.9"] {
            assert!(base_url(local, false).is_ok(), "{local}");
        }
        let error = base_url("http://api.frame.io", false).unwrap_err();
        assert!(error.contains("clear text") && error.contains("danger_allow_plain_http"), "{error}");
        assert!(base_url("http://api.frame.io", true).is_ok(), "the explicit opt-in");
        assert!(base_url("http://localhost.evil.example", false).is_err());
        assert!(base_url("ftp://api.frame.io", true).is_err());
        assert!(base_url("https://api.frame.io/?x=1", false).is_err());
        assert!(base_url("not a url", false).is_err());
    }

    #[test]
    fn a_checked_base_url_has_no_trailing_slash() {
        let mut config = Config::new(Duration::from_secs(1), RetryPolicy::api(), RateLimiting::new());
        config.base_url = "https://api.frame.io/".into();
        assert_eq!(config.checked_base_url().unwrap(), "https://api.frame.io");
        config.base_url = "http://api.frame.io".into();
        let error = config.checked_base_url().unwrap_err().to_string();
        assert!(
            error.starts_with("invalid client configuration: the base URL \"http://api.frame.io\" is plain http"),
            "{error}"
        );
    }
}
