//! `fio`, the Frame.io command line, built on frameio-ext. See the crate's
//! README for every command and the exit codes.
//!
//! What each module owns: `cli` (the arguments), `commands` (one function
//! per command), `demo` (`fio demo` against the embedded fake), `session`
//! (the client of the stored sign-in), `store` (where sign-ins and secrets
//! live), `target` (ids and web URLs), `resolve` (what an id is, and where),
//! `output` (tables, JSON, notes), `progress` (bars), `error` (messages and
//! exit codes).

mod cli;
mod commands;
mod demo;
mod error;
mod output;
mod progress;
mod resolve;
mod session;
mod store;
mod target;

use std::future::Future;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, CommentsCommand, ShareCommand, WebhooksCommand};
use crate::error::{Exit, Failure, Result};
use crate::session::Ctx;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&Failure::internal(format!("could not start the async runtime: {e}"))),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure),
    }
}

fn fail(failure: &Failure) -> ExitCode {
    output::note(format!("fio: {failure}"));
    failure.exit_code()
}

/// clap's verdict: help and version on stdout with 0, an error as one line with 2.
fn usage(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let text = error.render().to_string();
        let _ = output::out(&format!("{}\n", text.trim_end()));
        return ExitCode::SUCCESS;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        output::note(error.render().to_string().trim_end());
        return ExitCode::from(Exit::Usage as u8);
    }
    // clap's message, without the usage block and the help hint after it.
    let rendered = error.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(|line| line.trim().trim_start_matches("error: "))
        .filter(|line| !line.is_empty() && !line.starts_with("tip:"))
        .collect();
    fail(&Failure::usage(format!("{} (see `fio --help`)", message.join(" "))))
}

/// `-v` levels, or `RUST_LOG`; on stderr.
fn logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}

async fn run(cli: Cli) -> Result<()> {
    let cancel = CancellationToken::new();
    let global = cli.global;
    match cli.command {
        Command::Login(args) => interruptible(commands::login::login(&global, args), &cancel, false).await,
        Command::Logout => interruptible(commands::login::logout(&global), &cancel, false).await,
        Command::Demo => interruptible(demo::run(&global, &cancel), &cancel, true).await,
        command => {
            let ctx = Ctx::connect(&global).await?;
            let graceful = matches!(command, Command::Upload(_) | Command::Download(_));
            let outcome = interruptible(dispatch(&ctx, &global, command, &cancel), &cancel, graceful).await;
            let saved = ctx.finish().await;
            outcome.and(saved)
        }
    }
}

async fn dispatch(ctx: &Ctx, global: &cli::Global, command: Command, cancel: &CancellationToken) -> Result<()> {
    use commands::*;
    match command {
        Command::Whoami => login::whoami(ctx, global).await,
        Command::Ls(args) => browse::ls(ctx, args).await,
        Command::Tree(args) => browse::tree(ctx, args).await,
        Command::Upload(args) => transfer::upload(ctx, args, cancel).await,
        Command::Download(args) => transfer::download(ctx, args, cancel).await,
        Command::Share(ShareCommand::Create(args)) => share::create(ctx, args).await,
        Command::Comments(CommentsCommand::Export(args)) => comments::export(ctx, args).await,
        Command::Webhooks(WebhooksCommand::Ensure(args)) => webhooks::ensure(ctx, args).await,
        Command::Webhooks(WebhooksCommand::List(args)) => webhooks::list(ctx, args).await,
        Command::Webhooks(WebhooksCommand::Delete(args)) => webhooks::delete(ctx, args).await,
        Command::Search(args) => search::search(ctx, args).await,
        Command::Login(_) | Command::Logout | Command::Demo => Err(Failure::internal("dispatched a local command")),
    }
}

/// Runs `work` until it ends or Ctrl-C. A `graceful` command (a transfer) is
/// asked to stop through `cancel` and reports what it did; a second Ctrl-C,
/// or any other command, ends at once.
async fn interruptible(
    work: impl Future<Output = Result<()>>,
    cancel: &CancellationToken,
    graceful: bool,
) -> Result<()> {
    let interrupted = || Failure::interrupted("interrupted");
    tokio::pin!(work);
    tokio::select! {
        outcome = &mut work => outcome,
        _ = tokio::signal::ctrl_c() => {
            if !graceful {
                return Err(interrupted());
            }
            cancel.cancel();
            output::note("fio: stopping; Ctrl-C again to quit at once");
            tokio::select! {
                outcome = &mut work => outcome.and(Err(interrupted())),
                _ = tokio::signal::ctrl_c() => Err(interrupted()),
            }
        }
    }
}
