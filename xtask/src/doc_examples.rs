//! Doc examples that compile: progenitor writes each operation's example as an
//! `ignore` block whose values (`account_id`, `body`, ...) are free variables.
//! frameio-ext's call methods keep those docs, so each example becomes a `no_run`
//! doctest instead: the values it sets are arguments of a hidden `async fn`, typed
//! as the setter converts them, and `cargo test` compiles every one, so an example
//! that no longer matches the API fails the build rather than misleading a reader.

use quote::ToTokens;
use syn::visit_mut::VisitMut;

/// `docs` with progenitor's example, if it has one, made a compiling doctest for
/// the call builder `imp` of frameio-ext's client `client` (`crate::Client`).
pub fn compiling(
    docs: &[syn::Attribute],
    imp: &syn::ItemImpl,
    client: &str,
    paths: &mut impl VisitMut,
) -> Result<Vec<syn::Attribute>, String> {
    docs.iter()
        .map(|attr| match doc_text(attr) {
            Some(text) if text.contains("```ignore\n") => {
                let text = rewrite(&text, imp, client, paths)?;
                Ok(syn::parse_quote!(#[doc = #text]))
            }
            _ => Ok(attr.clone()),
        })
        .collect()
}

fn doc_text(attr: &syn::Attribute) -> Option<String> {
    let syn::Meta::NameValue(nv) = &attr.meta else { return None };
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) if attr.path().is_ident("doc") => Some(s.value()),
        _ => None,
    }
}

fn rewrite(text: &str, imp: &syn::ItemImpl, client: &str, paths: &mut impl VisitMut) -> Result<String, String> {
    let (before, rest) = text.split_once("```ignore\n").ok_or("no example")?;
    let (code, after) = rest.split_once("\n```").ok_or("an example that does not end")?;
    if !code.starts_with("let response = client.") {
        return Err(format!("an example that is not one call on `client`: {code}"));
    }
    let mut arguments = vec![format!("client: &{}", client.replacen("crate::", "frameio_ext::", 1))];
    for setter in setters(code) {
        let mut ty = converted_type(imp, setter).ok_or_else(|| format!("no setter `{setter}` converting a value"))?;
        paths.visit_type_mut(&mut ty);
        arguments.push(format!("{setter}: {}", ty.to_token_stream().to_string().replace(' ', "")));
    }
    let arguments = arguments.join(", ");
    Ok(format!(
        "{before}```no_run\n# async fn example({arguments}) -> frameio_ext::Result<()> {{\n{code}\n# let _ = response;\n# Ok(())\n# }}\n```{after}"
    ))
}

/// The setters an example calls, in order: `.account_id(account_id)` lines.
fn setters(code: &str) -> impl Iterator<Item = &str> {
    code.lines()
        .filter_map(|line| line.trim().strip_prefix('.')?.split_once('('))
        .map(|(name, _)| name)
        .filter(|name| *name != "send")
}

/// `T` in the setter's `where V: TryInto<T>`.
fn converted_type(imp: &syn::ItemImpl, setter: &str) -> Option<syn::Type> {
    let f = imp.items.iter().find_map(|item| match item {
        syn::ImplItem::Fn(f) if f.sig.ident == setter => Some(f),
        _ => None,
    })?;
    f.sig.generics.where_clause.as_ref()?.predicates.iter().find_map(|predicate| {
        let syn::WherePredicate::Type(pt) = predicate else { return None };
        pt.bounds.iter().find_map(|bound| {
            let syn::TypeParamBound::Trait(t) = bound else { return None };
            let last = t.path.segments.last().filter(|s| s.ident == "TryInto")?;
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(ty) => Some(ty.clone()),
                _ => None,
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoPaths;
    impl VisitMut for NoPaths {}

    fn imp() -> syn::ItemImpl {
        syn::parse_quote! {
            impl<'a> FilesCopy<'a> {
                pub fn account_id<V>(mut self, value: V) -> Self where V: std::convert::TryInto<::std::string::String> { todo!() }
                pub fn body<V>(mut self, value: V) -> Self
                where
                    V: std::convert::TryInto<types::FileCopyParams>,
                    <V as std::convert::TryInto<types::FileCopyParams>>::Error: std::fmt::Display,
                { todo!() }
            }
        }
    }

    fn docs(example: &str) -> Vec<syn::Attribute> {
        let text = format!("Copy a file.\n\n```ignore\n{example}\n```");
        vec![syn::parse_quote!(#[doc = #text])]
    }

    #[test]
    fn an_example_becomes_a_hidden_function_of_its_values() {
        let example = "let response = client.files_copy()\n    .account_id(account_id)\n    .body(body)\n    .send()\n    .await;";
        let out = compiling(&docs(example), &imp(), "crate::Client", &mut NoPaths).unwrap();
        let text = doc_text(&out[0]).unwrap();
        assert!(text.starts_with("Copy a file.\n\n```no_run\n"), "{text}");
        assert!(
            text.contains(
                "# async fn example(client: &frameio_ext::Client, account_id: ::std::string::String, body: types::FileCopyParams) -> frameio_ext::Result<()> {\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!("{example}\n# let _ = response;\n# Ok(())\n# }}\n```")), "{text}");
    }

    #[test]
    fn docs_without_an_example_are_kept_and_a_missing_setter_is_an_error() {
        let plain: Vec<syn::Attribute> = vec![syn::parse_quote!(#[doc = "Copy a file."])];
        let out = compiling(&plain, &imp(), "crate::Client", &mut NoPaths).unwrap();
        assert_eq!(doc_text(&out[0]).as_deref(), Some("Copy a file."));
        let example = "let response = client.files_copy()\n    .file_id(file_id)\n    .send()\n    .await;";
        let Err(error) = compiling(&docs(example), &imp(), "crate::Client", &mut NoPaths) else {
            panic!("a setter the builder lacks must fail the generator")
        };
        assert!(error.contains("`file_id`"), "{error}");
    }
}
