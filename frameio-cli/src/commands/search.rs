//! `fio search QUERY`: Frame.io's search over the account's files, version
//! stacks, folders and projects.

use frameio_ext::types::{SearchParams, SearchParamsEngine, SearchParamsFilters, SearchResponseDataItems};
use futures::{StreamExt, TryStreamExt};

use crate::cli::{SearchArgs, SearchEngine, SearchKind};
use crate::error::{Failure, Result};
use crate::output::{self, Table};
use crate::session::Ctx;

/// Largest `--limit`.
const MAX_RESULTS: usize = 10_000;

/// `fio search QUERY`.
pub async fn search(ctx: &Ctx, args: SearchArgs) -> Result<()> {
    if args.query.trim().is_empty() {
        return Err(Failure::usage("give something to search for"));
    }
    if args.limit == 0 || args.limit > MAX_RESULTS {
        return Err(Failure::usage(format!("--limit must be between 1 and {MAX_RESULTS}")));
    }
    let account_id = ctx.single_account().await?;
    let wants = |kind| args.kinds.is_empty() || args.kinds.contains(&kind);
    let body = SearchParams {
        engine: match args.engine {
            SearchEngine::Lexical => SearchParamsEngine::Lexical,
            SearchEngine::Nlp => SearchParamsEngine::Nlp,
        },
        filters: Some(SearchParamsFilters {
            files_and_version_stacks: wants(SearchKind::File),
            folders: wants(SearchKind::Folder),
            projects: wants(SearchKind::Project),
        }),
        query: args.query.clone(),
    };
    let page_size = i64::try_from(args.limit.min(100)).unwrap_or(100);
    let results: Vec<SearchResponseDataItems> = ctx
        .client
        .search_search()
        .account_id(&account_id)
        .page_size(page_size)
        .body(body)
        .stream()
        .take(args.limit)
        .try_collect()
        .await?;
    if ctx.json {
        return output::json(&results);
    }
    let mut table = Table::new(&["TYPE", "NAME", "ID", "PROJECT"]);
    for result in &results {
        table.row(match result {
            SearchResponseDataItems::AssetSearchResult(hit) => vec![
                hit.result.type_.as_str().replace("version_stack", "stack"),
                hit.result.name.clone(),
                hit.result.id.clone(),
                hit.result.project_id.clone(),
            ],
            SearchResponseDataItems::ProjectSearchResult(hit) => {
                vec!["project".into(), hit.result.name.clone(), hit.result.id.clone(), hit.result.id.clone()]
            }
        });
    }
    table.print()
}
