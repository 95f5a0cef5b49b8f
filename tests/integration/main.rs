//! The one integration-test binary (one link step for every test).

mod cli;
mod engine;
mod schema;
mod util;
