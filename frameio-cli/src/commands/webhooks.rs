//! `fio webhooks ensure|list|delete`: a workspace's webhook subscriptions.
//!
//! `ensure` is safe to run again and again (from a deploy script): a webhook
//! is identified by its URL, created only when the workspace has none for
//! it, and otherwise brought in line (name, events). Frame.io shows a
//! webhook's signing secret once, when it is created: `ensure` prints it
//! then, and only then, and keeps it in the OS keychain (or the 0600
//! `webhook-secrets.json`) so that it is not lost with the terminal.

use std::collections::BTreeSet;

use frameio_ext::types::{
    WebhookCreateParams, WebhookCreateParamsData, WebhookEvents, WebhookUpdateParams, WebhookUpdateParamsData,
    WebhookWithIncludes,
};
use futures::TryStreamExt;
use serde_json::json;

use crate::cli::{WebhookDeleteArgs, WebhookEnsureArgs, WorkspaceArg};
use crate::error::{Failure, Result};
use crate::output::{self, Table, note};
use crate::session::Ctx;

/// `fio webhooks ensure`.
pub async fn ensure(ctx: &Ctx, args: WebhookEnsureArgs) -> Result<()> {
    let events: Vec<String> = args.events.iter().map(|e| e.trim().to_string()).filter(|e| !e.is_empty()).collect();
    if events.is_empty() {
        return Err(Failure::usage("--events needs at least one event type, e.g. file.created"));
    }
    if !args.url.starts_with("https://") && !args.url.starts_with("http://") {
        return Err(Failure::usage(format!("--url `{}` is not an http(s) URL", args.url)));
    }
    let (account_id, workspace_id) = workspace(ctx, &args.workspace).await?;
    let existing: Vec<WebhookWithIncludes> =
        ctx.client.webhooks_index().account_id(&account_id).workspace_id(&workspace_id).stream().try_collect().await?;
    if let Some(found) = existing.into_iter().find(|w| w.url == args.url) {
        let same_events = found.events.iter().collect::<BTreeSet<_>>() == events.iter().collect::<BTreeSet<_>>();
        if same_events && found.name == args.name {
            return show(ctx, "exists", &found.id, &found.name, &found.url, &found.events, None);
        }
        let body = WebhookUpdateParams {
            data: WebhookUpdateParamsData {
                active: None,
                events: Some(WebhookEvents(events)),
                name: Some(args.name.clone()),
                url: None,
            },
        };
        let updated = ctx.client.webhooks_update().account_id(&account_id).webhook_id(&found.id).body(body).await?.data;
        return show(ctx, "updated", &updated.id, &updated.name, &updated.url, &updated.events, None);
    }
    let body = WebhookCreateParams {
        data: WebhookCreateParamsData { events: WebhookEvents(events), name: args.name.clone(), url: args.url.clone() },
    };
    let created =
        ctx.client.webhooks_create().account_id(&account_id).workspace_id(&workspace_id).body(body).await?.data;
    let kept = ctx.vault()?.save_webhook_secret(&created.id, &created.secret).await;
    let place = match &kept {
        Ok(place) => place.clone(),
        Err(e) => format!("nowhere ({e}): copy it now"),
    };
    show(ctx, "created", &created.id, &created.name, &created.url, &created.events, Some((&created.secret, &place)))
}

/// Prints one webhook (and, just created, its secret).
fn show(
    ctx: &Ctx,
    status: &str,
    id: &str,
    name: &str,
    url: &str,
    events: &WebhookEvents,
    secret: Option<(&str, &str)>,
) -> Result<()> {
    if ctx.json {
        let mut value = json!({ "status": status, "id": id, "name": name, "url": url, "events": events });
        if let Some((secret, place)) = secret {
            value["secret"] = json!(secret);
            value["secret_kept_in"] = json!(place);
        }
        return output::json(&value);
    }
    let mut table = Table::new(&["STATUS", "NAME", "ID", "URL", "EVENTS"]);
    table.row(vec![status.into(), name.into(), id.into(), url.into(), events.join(",")]);
    table.print()?;
    if let Some((secret, place)) = secret {
        output::out(&format!("secret: {secret}\n"))?;
        note(format!("Frame.io shows this secret only now; fio kept it in {place}."));
    }
    Ok(())
}

/// `fio webhooks list`.
pub async fn list(ctx: &Ctx, args: WorkspaceArg) -> Result<()> {
    let (account_id, workspace_id) = workspace(ctx, &args).await?;
    let hooks: Vec<WebhookWithIncludes> =
        ctx.client.webhooks_index().account_id(&account_id).workspace_id(&workspace_id).stream().try_collect().await?;
    if ctx.json {
        return output::json(&hooks);
    }
    let mut table = Table::new(&["NAME", "ID", "ACTIVE", "URL", "EVENTS"]);
    for hook in &hooks {
        let active = hook.active.map(|a| if a { "yes" } else { "no" }).unwrap_or("?");
        table.row(vec![hook.name.clone(), hook.id.clone(), active.into(), hook.url.clone(), hook.events.join(",")]);
    }
    table.print()
}

/// `fio webhooks delete ID`.
pub async fn delete(ctx: &Ctx, args: WebhookDeleteArgs) -> Result<()> {
    let account_id = ctx.single_account().await?;
    ctx.client.webhooks_delete().account_id(&account_id).webhook_id(&args.id).await?;
    ctx.vault()?.remove_webhook_secret(&args.id).await?;
    if ctx.json {
        output::json(&json!({ "deleted": args.id }))
    } else {
        output::out(&format!("Deleted webhook {}.\n", args.id))
    }
}

/// The account and workspace: `--workspace` (in `--account` or the only
/// account), else the account's only workspace.
async fn workspace(ctx: &Ctx, args: &WorkspaceArg) -> Result<(String, String)> {
    let account_id = ctx.single_account().await?;
    if let Some(workspace) = &args.workspace {
        return Ok((account_id, workspace.clone()));
    }
    let workspaces: Vec<_> = ctx.client.workspaces_index().account_id(&account_id).stream().try_collect().await?;
    match workspaces.as_slice() {
        [only] => Ok((account_id, only.id.clone())),
        [] => Err(Failure::not_found(format!("account {account_id} has no workspace"))),
        many => {
            let names: Vec<String> = many.iter().take(10).map(|w| format!("{} ({})", w.name, w.id)).collect();
            Err(Failure::usage(format!(
                "the account has {} workspaces; choose one with --workspace: {}",
                many.len(),
                names.join(", ")
            )))
        }
    }
}
