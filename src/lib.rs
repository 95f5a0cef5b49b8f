//! blueprint: IoT device privacy blueprints.
