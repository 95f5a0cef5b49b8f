//! The one integration-test binary (one link step for every test).

mod cli;
mod crypto;
mod diff;
mod engine;
mod init;
mod profile_cases;
mod profile_doc;
mod render;
mod schema;
mod seed_coverage;
mod us_profiles;
mod util;
mod validate;
