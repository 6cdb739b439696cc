//! `harness cache show REF…` and `harness cache compare REF_A REF_B`: read
//! the BuildKit cache records of images (inline cache) or registry cache
//! refs from any registry the user can reach, and print what they hold or
//! what was lost or changed from one to the other. A REF that names an
//! existing file is read as documents recorded by the harness (offline).
//!
//! Credentials come from the Docker config (`~/.docker/config.json`, or
//! `$DOCKER_CONFIG`) and are never printed. Exit codes: 0 read, 2 a bad
//! reference or file, 3 the registry could not be read.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use super::exit::{CliError, CliResult, Exit};
use crate::cache::{
    compare, decode_documents, docker_config_path, from_docker_config, layer_names, CacheConfig, CacheDocuments,
    Comparison, FetchOptions, Reference, RegistryClient, TlsOptions,
};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decode the cache of each REF: records, layers, keys with results.
    Show {
        #[arg(value_name = "REF", required = true)]
        refs: Vec<String>,
        #[command(flatten)]
        access: Access,
    },
    /// What REF_B (the later export) lost or changed from REF_A.
    Compare {
        #[arg(value_name = "REF_A")]
        a: String,
        #[arg(value_name = "REF_B")]
        b: String,
        #[command(flatten)]
        access: Access,
    },
}

/// How to reach the registry.
#[derive(Debug, clap::Args)]
pub struct Access {
    /// Trust this PEM CA (e.g. a harness run's CA) besides the system's.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Do not check the registry's certificate, and allow plain HTTP.
    #[arg(long)]
    insecure: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// One decoded cache and where it came from.
#[derive(Debug, Serialize)]
struct Shown {
    reference: String,
    config: CacheConfig,
    #[serde(skip)]
    names: HashMap<String, String>,
}

pub fn run(command: Command) -> CliResult {
    let runtime =
        tokio::runtime::Runtime::new().context("cannot start the async runtime").map_err(CliError::infrastructure)?;
    match command {
        Command::Show { refs, access } => {
            let mut shown = Vec::new();
            for reference in &refs {
                shown.push(runtime.block_on(load(reference, &access))?);
            }
            let text = if access.json {
                to_json(&shown)?
            } else {
                shown.iter().map(render_show).collect::<Vec<_>>().join("\n")
            };
            print!("{text}");
        }
        Command::Compare { a, b, access } => {
            let a = runtime.block_on(load(&a, &access))?;
            let b = runtime.block_on(load(&b, &access))?;
            let mut names = a.names.clone();
            names.extend(b.names.clone());
            let comparison = compare(&a.config, &b.config, &names);
            let text = if access.json { to_json(&comparison)? } else { render_compare(&a, &b, &comparison) };
            print!("{text}");
        }
    }
    Ok(Exit::Pass)
}

/// `harness diagnose --image REF…`: each ref's cache, and what each export
/// lost or changed against the one before it (oldest first).
pub(crate) fn diagnose_images(refs: &[String], ca: Option<PathBuf>, insecure: bool, json: bool) -> CliResult {
    let access = Access { ca, insecure, json };
    let runtime =
        tokio::runtime::Runtime::new().context("cannot start the async runtime").map_err(CliError::infrastructure)?;
    let mut shown = Vec::new();
    for reference in refs {
        shown.push(runtime.block_on(load(reference, &access))?);
    }
    let comparisons: Vec<Compared> = shown
        .windows(2)
        .map(|pair| {
            let mut names = pair[0].names.clone();
            names.extend(pair[1].names.clone());
            Compared {
                from: pair[0].reference.clone(),
                to: pair[1].reference.clone(),
                comparison: compare(&pair[0].config, &pair[1].config, &names),
            }
        })
        .collect();
    let text = if json {
        to_json(&Diagnosed { exports: &shown, comparisons: &comparisons })?
    } else {
        let mut out = String::new();
        for one in &shown {
            out.push_str(&render_show(one));
        }
        for (pair, compared) in shown.windows(2).zip(&comparisons) {
            out.push('\n');
            out.push_str(&render_compare(&pair[0], &pair[1], &compared.comparison));
        }
        out
    };
    print!("{text}");
    Ok(Exit::Pass)
}

/// What `diagnose --image --json` prints.
#[derive(Serialize)]
struct Diagnosed<'a> {
    exports: &'a [Shown],
    comparisons: &'a [Compared],
}

#[derive(Serialize)]
struct Compared {
    from: String,
    to: String,
    comparison: Comparison,
}

async fn load(reference: &str, access: &Access) -> Result<Shown, CliError> {
    if Path::new(reference).is_file() {
        let text = std::fs::read_to_string(reference)
            .with_context(|| format!("failed to read `{reference}`"))
            .map_err(CliError::bad_input)?;
        let documents: CacheDocuments = serde_json::from_str(&text)
            .with_context(|| format!("`{reference}` is not documents recorded by the harness"))
            .map_err(CliError::bad_input)?;
        let (config, _) = decode_documents(&documents)
            .with_context(|| format!("failed to decode `{reference}`"))
            .map_err(CliError::bad_input)?;
        return Ok(Shown { reference: reference.to_owned(), config, names: layer_names(&documents) });
    }
    let parsed = Reference::parse(reference).map_err(CliError::bad_input)?;
    let ca_pem = match &access.ca {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("failed to read the CA file `{}`", path.display()))
                .map_err(CliError::bad_input)?,
        ),
        None => None,
    };
    let auth = match docker_config_path() {
        Some(path) => from_docker_config(&path, &parsed.config_keys()).map_err(CliError::bad_input)?,
        None => None,
    };
    let options = FetchOptions {
        tls: TlsOptions { ca_pem, system_roots: true, insecure: access.insecure },
        auth,
        ..FetchOptions::default()
    };
    let client = RegistryClient::new(options).map_err(CliError::bad_input)?;
    let fetched = client.fetch(reference).await.map_err(|e| match &e.kind {
        crate::cache::fetch::FetchErrorKind::Decode(_) | crate::cache::fetch::FetchErrorKind::NotFound(_) => {
            CliError::bad_input(e)
        }
        _ => CliError::infrastructure(e),
    })?;
    Ok(Shown { reference: reference.to_owned(), config: fetched.config, names: layer_names(&fetched.documents) })
}

fn to_json(value: &impl Serialize) -> Result<String, CliError> {
    let mut text =
        serde_json::to_string_pretty(value).context("cannot encode JSON").map_err(CliError::infrastructure)?;
    text.push('\n');
    Ok(text)
}

fn render_show(shown: &Shown) -> String {
    let config = &shown.config;
    let source = match config.source {
        crate::cache::CacheSource::Inline => "inline",
        crate::cache::CacheSource::Registry => "registry",
    };
    let mut out = format!(
        "{} ({source} cache): {} records, {} with layers, {} layers\n",
        shown.reference,
        config.records.len(),
        config.records_with_layers(),
        config.layers.len()
    );
    // Keys with results, named by the layer they made.
    for record in config.records.iter().filter(|r| r.has_result()) {
        let top = record.top_layer().and_then(|l| config.layer_id(l)).unwrap_or("?");
        let name = shown.names.get(top).map_or("(no history)", String::as_str);
        let _ = writeln!(out, "  {}  layer {}  {name}", short(&record.digest), short(top));
    }
    let bare = config.records.len() - config.records_with_layers();
    let _ = writeln!(out, "  and {bare} keys without a result (links in the chain, or results the export dropped)");
    out
}

fn render_compare(a: &Shown, b: &Shown, c: &Comparison) -> String {
    let count =
        |s: &Shown| format!("{} records, {} with layers", s.config.records.len(), s.config.records_with_layers());
    let mut out = format!("{}: {}\n{}: {}\n", a.reference, count(a), b.reference, count(b));
    let _ = writeln!(out, "kept with results: {}; new keys in the second: {}", c.kept, c.new_keys);
    let name = |k: &crate::cache::KeyChange| k.name.clone().unwrap_or_else(|| format!("key {}", short(&k.key)));
    for lost in &c.lost_results {
        let _ = writeln!(
            out,
            "lost result: the key of `{}` is still there, without its layer (moby/buildkit#2274, #7146)",
            name(lost)
        );
    }
    for missing in &c.missing {
        let _ = writeln!(
            out,
            "changed or dropped: `{}` has no equal key (its input chain changed, or the record is gone)",
            name(missing)
        );
    }
    if c.lost_results.is_empty() && c.missing.is_empty() {
        out.push_str("nothing lost: every key with a result kept it\n");
    }
    out
}

fn short(digest: &str) -> &str {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    &hex[..hex.len().min(12)]
}
