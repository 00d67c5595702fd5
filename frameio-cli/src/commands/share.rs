//! `fio share create`: a review link to files, folders or version stacks of
//! one project.

use frameio_ext::types::{CreateShareParams, CreateShareParamsDataAsset, CreateShareParamsDataAssetType, ShareAccess};
use serde_json::json;

use crate::cli::ShareCreateArgs;
use crate::error::{Failure, Result};
use crate::output::{self, Table};
use crate::resolve::{Asset, Want, resolve};
use crate::session::Ctx;
use crate::target::Target;

/// `fio share create TARGET... --name NAME`.
pub async fn create(ctx: &Ctx, args: ShareCreateArgs) -> Result<()> {
    let expiration = args
        .expires
        .as_deref()
        .map(|at| {
            chrono::DateTime::parse_from_rfc3339(at).map(|at| at.to_utc()).map_err(|e| {
                Failure::usage(format!("--expires `{at}` is not an RFC 3339 time ({e}), e.g. 2030-01-31T18:00:00Z"))
            })
        })
        .transpose()?;
    if args.name.trim().is_empty() || args.name.contains(['\n', '\r']) {
        return Err(Failure::usage("--name needs a non-blank name on one line"));
    }
    let targets: Vec<Target> = args.targets.iter().map(|t| Target::parse(t)).collect::<Result<_>>()?;
    let mut account_id = None;
    let mut project_id = None;
    let mut asset_ids = Vec::new();
    for target in &targets {
        let found = resolve(ctx, target, Want::Any).await?;
        let id = match &found.asset {
            Asset::Project(p) => p.root_folder_id.clone(),
            other => other.id().to_string(),
        };
        let project = found.asset.project_id().to_string();
        match &project_id {
            Some(first) if *first != project => {
                return Err(Failure::usage(format!(
                    "a share is of one project: `{}` is in project {project}, the first target in {first}",
                    target.id()
                )));
            }
            _ => project_id = Some(project),
        }
        account_id.get_or_insert(found.account_id);
        asset_ids.push(id);
    }
    let (Some(account_id), Some(project_id)) = (account_id, project_id) else {
        return Err(Failure::usage("give at least one file, folder or version stack to share"));
    };
    let body = CreateShareParams {
        data: CreateShareParamsDataAsset {
            access: if args.secure { ShareAccess::Secure } else { ShareAccess::Public },
            asset_ids,
            description: None,
            downloading_enabled: Some(!args.no_download),
            expiration,
            name: args.name.clone(),
            passphrase: args.passphrase.clone(),
            type_: CreateShareParamsDataAssetType::Asset,
        }
        .into(),
    };
    let share = ctx.client.shares_create().account_id(&account_id).project_id(&project_id).body(body).await?.data;
    if ctx.json {
        return output::json(&json!({ "account_id": account_id, "project_id": project_id, "share": share }));
    }
    let mut table = Table::new(&["SHARE", "ID", "ACCESS", "URL"]);
    table.row(vec![
        share.name.clone().unwrap_or_default(),
        share.id.clone(),
        share.access.as_str().to_string(),
        share.short_url.clone().unwrap_or_else(|| "-".into()),
    ]);
    table.print()?;
    if let Some(passphrase) = &share.passphrase {
        output::out(&format!("passphrase: {passphrase}\n"))?;
    }
    Ok(())
}
