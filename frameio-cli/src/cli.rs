//! The command line: every command, argument and option (clap derive). The
//! help text here is what `fio help` prints.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::store::Preference;

/// `fio`'s command line (its help text is in the attributes, as clap prints it).
#[derive(Debug, Parser)]
#[command(
    name = "fio",
    version,
    propagate_version = true,
    max_term_width = 100,
    about = "fio: the Frame.io command line",
    long_about = "fio: the Frame.io command line.\n\nTargets are ids or Frame.io web URLs: \
                  https://next.frame.io/project/<id> or https://next.frame.io/project/<id>/view/<id>."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print JSON (for scripts) instead of tables
    #[arg(long, global = true)]
    pub json: bool,
    /// The API's base URL (for example a local fake)
    #[arg(long, global = true, env = "FIO_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// The account to work in [default: the only one, or the one holding what is named]
    #[arg(long, global = true, env = "FIO_ACCOUNT", value_name = "ID")]
    pub account: Option<String>,
    /// Log more on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Where sign-in tokens and webhook secrets are kept
    #[arg(long, global = true, env = "FIO_CREDENTIAL_STORE", value_enum, default_value_t = Preference::Auto)]
    pub credential_store: Preference,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in: Adobe IMS in the browser (PKCE, loopback redirect), or a token
    Login(LoginArgs),
    /// Sign out: revoke the IMS tokens and forget the stored sign-in
    Logout,
    /// Who is signed in, their accounts, and where the sign-in is kept
    Whoami,
    /// List a folder, project or version stack (no target: every project)
    Ls(LsArgs),
    /// Show everything under a folder or project as a tree
    Tree(TreeArgs),
    /// Upload files and folders into a Frame.io folder
    Upload(UploadArgs),
    /// Download a file or folder into a local folder
    Download(DownloadArgs),
    /// Review links
    #[command(subcommand)]
    Share(ShareCommand),
    /// Comments on a file
    #[command(subcommand)]
    Comments(CommentsCommand),
    /// Webhook subscriptions of a workspace
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Search files, folders and projects of the account
    Search(SearchArgs),
    /// Run against an embedded fake Frame.io: no token, no network
    Demo,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Use this access token instead of signing in ("-" reads it from stdin)
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// The token is a legacy developer token (developer.frame.io)
    #[arg(long, requires = "token")]
    pub legacy: bool,
    /// Client id of your Adobe IMS "OAuth Native App" or single-page app credential
    #[arg(long, env = "FIO_CLIENT_ID", value_name = "ID", conflicts_with = "token")]
    pub client_id: Option<String>,
    #[arg(
        long,
        default_value_t = 8765,
        help = "Port of the loopback redirect (register http://127.0.0.1:<port>/callback on the credential)"
    )]
    pub port: u16,
    /// Scopes to ask for, replacing the defaults (repeat, or separate with commas)
    #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// The IMS to sign in with [default: Adobe's]
    #[arg(long, env = "FIO_IMS_URL", value_name = "URL")]
    pub ims_url: Option<String>,
    /// How long to wait for the browser sign-in, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// A folder, project, version stack or file: id or web URL
    pub target: Option<String>,
}

#[derive(Debug, Args)]
pub struct TreeArgs {
    /// A folder or project: id or web URL
    pub target: String,
    /// Do not go deeper than this many levels
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Local files and folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The Frame.io folder or project to upload into: id or web URL
    #[arg(value_name = "DEST")]
    pub dest: String,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The Frame.io file or folder: id or web URL
    pub source: String,
    /// The local folder to download into (created if missing)
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ShareCommand {
    /// Create a share of files, folders or version stacks of one project
    Create(ShareCreateArgs),
}

#[derive(Debug, Args)]
pub struct ShareCreateArgs {
    /// What to share: ids or web URLs, all in the same project
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// The share's name
    #[arg(long)]
    pub name: String,
    /// Require a passphrase (generated by Frame.io unless --passphrase is given)
    #[arg(long)]
    pub secure: bool,
    /// The passphrase of a secure share
    #[arg(long, requires = "secure")]
    pub passphrase: Option<String>,
    /// Do not let reviewers download
    #[arg(long)]
    pub no_download: bool,
    /// When the share stops working (RFC 3339, e.g. 2030-01-31T18:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CommentsCommand {
    /// Write every comment of a file as CSV or JSON
    Export(CommentsExportArgs),
}

#[derive(Debug, Args)]
pub struct CommentsExportArgs {
    /// The file: id or web URL
    pub target: String,
    /// The format [default: csv, or json with --json]
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Write to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A comment export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Create a webhook unless one with this URL exists (then keep its events in line)
    Ensure(WebhookEnsureArgs),
    /// List the workspace's webhooks
    List(WorkspaceArg),
    /// Delete a webhook (and forget its stored secret)
    Delete(WebhookDeleteArgs),
}

#[derive(Debug, Args)]
pub struct WorkspaceArg {
    /// The workspace [default: the account's only one]
    #[arg(long, value_name = "ID")]
    pub workspace: Option<String>,
}

#[derive(Debug, Args)]
pub struct WebhookEnsureArgs {
    /// The webhook's name
    #[arg(long)]
    pub name: String,
    /// Where Frame.io delivers events (https)
    #[arg(long)]
    pub url: String,
    /// Event types, e.g. file.created,comment.created
    #[arg(long, required = true, value_delimiter = ',')]
    pub events: Vec<String>,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

#[derive(Debug, Args)]
pub struct WebhookDeleteArgs {
    /// The webhook's id
    pub id: String,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for
    pub query: String,
    /// Only these kinds of results (repeat, or separate with commas)
    #[arg(long = "kind", value_enum, value_delimiter = ',')]
    pub kinds: Vec<SearchKind>,
    /// The search engine
    #[arg(long, value_enum, default_value_t = SearchEngine::Lexical)]
    pub engine: SearchEngine,
    /// At most this many results
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Kinds of search results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchKind {
    /// Files and version stacks
    File,
    Folder,
    Project,
}

/// Frame.io's search engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchEngine {
    /// Words as typed
    Lexical,
    /// Natural language
    Nlp,
}
