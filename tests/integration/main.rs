//! The one integration-test binary (one link step for every test).

mod cli;
mod crypto;
mod diff;
mod engine;
mod escrow;
mod explore;
mod findings;
mod init;
mod log;
mod manifest_doc;
mod outputs;
mod profile_cases;
mod profile_doc;
mod profile_scale;
mod readme_tour;
mod registry;
mod render;
mod sample_evidence;
mod schema;
mod seed_coverage;
mod selection;
mod self_contained;
mod tiles;
mod us_profiles;
mod util;
mod validate;
