//! Helpers shared by the integration tests that run real engines.
#![allow(dead_code)]

pub mod binary;
pub mod report_json;
pub mod run;
