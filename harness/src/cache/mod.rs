//! Why a step missed, read from the cache records each job exported.
//!
//! BuildKit leaves its cache keys in the registry: an image pushed with
//! inline cache carries them in its config (`moby.buildkit.cache.v0`), a
//! registry cache export in a config blob of type
//! `application/vnd.buildkit.cacheconfig.v0`. This module reads them
//! ([`fetch`]), decodes both wire shapes into one model ([`decode`],
//! [`model`]), maps records to a job's Dockerfile steps through layer diff
//! ids and the chain of inputs ([`coverage`]), and explains a miss where a
//! hit was possible ([`explain`]): a result lost by an earlier export, a
//! changed input, or a cache never imported. Where buildx wrote the
//! build's LLB definition ([`llb`], from `--metadata-file`), [`llb_diff`]
//! names the operation behind a changed input. Everything past fetching is
//! pure and tested on configs recorded from real runs
//! (`harness/tests/fixtures/cache/`).
//!
//! The runner calls it after each job: [`RegistryClient::fetch`] for every
//! ref the job pushed, [`coverage::cover`] with the job's steps, and at the
//! end [`explain::explain_misses`] over the jobs in order.

pub mod auth;
pub mod by_steps;
pub mod compare;
pub mod coverage;
pub mod decode;
pub mod explain;
pub mod fetch;
pub mod http;
pub mod llb;
pub mod llb_diff;
pub mod model;
pub mod reference;

pub use auth::{docker_config_path, from_docker_config, RegistryAuth};
pub use by_steps::{explain_by_steps, StepsView};
pub use compare::{compare, Comparison, KeyChange};
pub use coverage::{cover, FoundBy, JobCache, StepCache, StepLayer};
pub use decode::{decode_cache_config, decode_image_config, DecodeError, DecodeErrorKind};
pub use explain::{describe, explain_misses, explain_step, Explanation, JobExport, MissCause, StepRun};
pub use fetch::{
    decode_documents, layer_names, CacheDocuments, FetchError, FetchOptions, FetchedCache, RegistryClient,
};
pub use http::TlsOptions;
pub use llb::{decode_metadata, decode_provenance, BuildDefinition, LlbError, LlbOp, OpKind};
pub use llb_diff::{changed_operation, LlbFinding, OpChange, StepAt};
pub use model::{CacheConfig, CacheInput, CacheLayer, CacheRecord, CacheSource};
pub use reference::Reference;
