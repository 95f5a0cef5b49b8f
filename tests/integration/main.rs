//! The one integration-test binary (one link step for every test).

mod cli;
mod crypto;
mod diff;
mod engine;
mod escrow;
mod findings;
mod hostile_input;
mod init;
mod log;
mod manifest_doc;
mod outputs;
mod profile_cases;
mod profile_doc;
mod readme_tour;
mod registry;
mod render;
mod schema;
mod seed_coverage;
mod selection;
mod self_contained;
mod us_profiles;
mod util;
mod validate;
